import re

from odoo import _, api, fields, models

PLACEHOLDER_RE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
TEMPLATE_STATES = [
    ("approved", "Approved"),
    ("pending", "Pending"),
    ("rejected", "Rejected"),
    ("paused", "Paused"),
    ("disabled", "Disabled"),
    ("in_appeal", "In Appeal"),
    ("pending_deletion", "Pending Deletion"),
    ("deleted", "Deleted"),
    ("limit_exceeded", "Limit Exceeded"),
]
# What a new template's variables are mapped to, in order, until someone changes them.
DEFAULT_MAPPING = ["customer_name", "total_overdue", "oldest_due_date", "invoice_numbers", "portal_url", "company_name"]


class CollectionWhatsappTemplate(models.Model):
    _name = "collection.whatsapp.template"
    _description = "WhatsApp Message Template"
    _order = "account_id, name, language"

    name = fields.Char(required=True, help="Template name at Meta (lower case, underscores).")
    language = fields.Char(required=True, default="es_MX", help="Meta's language code, e.g. es_MX, es, en_US.")
    account_id = fields.Many2one("collection.whatsapp.account", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    active = fields.Boolean(default=True)
    meta_id = fields.Char(string="Meta ID", readonly=True, copy=False)
    category = fields.Selection(
        [("utility", "Utility"), ("marketing", "Marketing"), ("authentication", "Authentication")],
        default="utility",
        required=True,
    )
    status = fields.Selection(TEMPLATE_STATES, default="pending", required=True, index=True)
    rejected_reason = fields.Char(readonly=True)
    parameter_format = fields.Selection(
        [("positional", "Positional ({{1}})"), ("named", "Named ({{name}})")],
        default="positional",
        required=True,
    )
    body = fields.Text(help="Body text as approved by Meta, with its variables {{1}}, {{2}}...")
    variable_ids = fields.One2many(
        "collection.whatsapp.template.variable", "template_id", string="Variables", copy=True
    )
    last_sync = fields.Datetime(string="Last Synchronisation", readonly=True, copy=False)

    _unique_name_language = models.Constraint(
        "UNIQUE(account_id, name, language)", "A template exists once per language in an account."
    )

    @api.depends("name", "language")
    def _compute_display_name(self):
        for template in self:
            template.display_name = f"{template.name} ({template.language})" if template.language else template.name

    @api.model
    def _placeholders(self, body):
        """Variables of a body in order of first appearance."""
        seen = []
        for name in PLACEHOLDER_RE.findall(body or ""):
            if name not in seen:
                seen.append(name)
        if seen and all(name.isdigit() for name in seen):
            seen.sort(key=int)
        return seen

    def _default_variable_values(self, placeholders):
        values = []
        known = dict(self.env["collection.whatsapp.template.variable"]._fields["value_type"].selection)
        for index, placeholder in enumerate(placeholders):
            if placeholder in known:
                value_type = placeholder
            elif placeholder.isdigit() and index < len(DEFAULT_MAPPING):
                value_type = DEFAULT_MAPPING[index]
            else:
                value_type = "fixed"
            values.append({"placeholder": placeholder, "sequence": index, "value_type": value_type})
        return values

    def action_create_variables(self):
        """Add a variable for each {{...}} of the body that has none yet."""
        for template in self:
            existing = set(template.variable_ids.mapped("placeholder"))
            missing = [p for p in self._placeholders(template.body) if p not in existing]
            template.write(
                {
                    "variable_ids": [
                        fields.Command.create(values) for values in template._default_variable_values(missing)
                    ]
                }
            )
        return True

    def action_sync(self):
        return self.account_id.action_sync_templates()

    @api.model
    def _sync_from_meta(self, account, remote_templates):
        """Create or update the templates of ``account`` from Meta's listing; templates no longer
        listed are marked deleted (so no level sends them)."""
        existing = self.with_context(active_test=False).search([("account_id", "=", account.id)])
        by_key = {(t.name, t.language): t for t in existing}
        seen = self.browse()
        states = dict(TEMPLATE_STATES)
        now = fields.Datetime.now()
        for remote in remote_templates:
            if not isinstance(remote, dict) or not remote.get("name") or not remote.get("language"):
                continue
            body = (
                next(
                    (
                        c.get("text")
                        for c in remote.get("components") or []
                        if isinstance(c, dict) and (c.get("type") or "").upper() == "BODY"
                    ),
                    "",
                )
                or ""
            )
            status = (remote.get("status") or "pending").lower()
            category = (remote.get("category") or "utility").lower()
            values = {
                "meta_id": remote.get("id"),
                "status": status if status in states else "pending",
                "category": category if category in ("utility", "marketing", "authentication") else "utility",
                "body": body,
                "parameter_format": "named"
                if (remote.get("parameter_format") or "").upper() == "NAMED"
                else "positional",
                "rejected_reason": remote.get("rejected_reason")
                if remote.get("rejected_reason") not in (None, "NONE")
                else False,
                "last_sync": now,
            }
            template = by_key.get((remote["name"], remote["language"]))
            if template:
                template.write(values)
            else:
                template = self.create(
                    dict(values, account_id=account.id, name=remote["name"], language=remote["language"])
                )
            template.action_create_variables()
            seen |= template
        (existing - seen).write({"status": "deleted", "last_sync": now})
        return seen

    # ------------------------------------------------------------------
    # Filling
    # ------------------------------------------------------------------

    def _for_lang(self, lang):
        """The approved variant of this template (same name and account) closest to ``lang``."""
        self.ensure_one()
        if not lang or self.language == lang:
            return self
        variants = self.search(
            [("account_id", "=", self.account_id.id), ("name", "=", self.name), ("status", "=", "approved")]
        )
        exact = variants.filtered(lambda t: t.language == lang)
        if exact:
            return exact[0]
        if self.language.split("_")[0] == lang.split("_")[0]:
            return self
        base = variants.filtered(lambda t: t.language.split("_")[0] == lang.split("_")[0])
        return base[0] if base else self

    def _get_parameters(self, communication):
        """Body parameters of Meta's template payload, filled for ``communication``."""
        self.ensure_one()
        parameters = []
        for variable in self.variable_ids.sorted(lambda v: (v.sequence, v.id)):
            parameter = {"type": "text", "text": variable._get_value(communication)}
            if self.parameter_format == "named":
                parameter["parameter_name"] = variable.placeholder
            parameters.append(parameter)
        return parameters

    def _render(self, parameters):
        """The body as the customer reads it."""
        self.ensure_one()
        values = {}
        for variable, parameter in zip(self.variable_ids.sorted(lambda v: (v.sequence, v.id)), parameters):
            values[variable.placeholder] = parameter["text"]
        return PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), m.group(0)), self.body or "")

    def _check_sendable(self):
        """A reason this template cannot be sent, or False."""
        self.ensure_one()
        if self.status != "approved":
            return _(
                "The WhatsApp template %(name)s is not approved by Meta (status: %(status)s).",
                name=self.display_name,
                status=dict(TEMPLATE_STATES).get(self.status, self.status),
            )
        if not self.account_id.active:
            return _("The WhatsApp account %s of the template is archived.", self.account_id.name)
        missing = set(self._placeholders(self.body)) - set(self.variable_ids.mapped("placeholder"))
        if missing:
            return _(
                "The WhatsApp template %(name)s has variables without a value: %(vars)s.",
                name=self.display_name,
                vars=", ".join(sorted(missing)),
            )
        return False
