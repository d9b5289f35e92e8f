import logging
import re

from odoo import _, api, fields, models

_logger = logging.getLogger(__name__)

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
# Meta's template events and the status they leave the template in (FLAGGED only warns).
STATUS_EVENTS = {
    "approved": "approved",
    "reinstated": "approved",
    "rejected": "rejected",
    "paused": "paused",
    "disabled": "disabled",
    "pending_deletion": "pending_deletion",
    "deleted": "deleted",
    "in_appeal": "in_appeal",
    "pending": "pending",
    "limit_exceeded": "limit_exceeded",
}
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
    rejected_reason = fields.Char(string="Reason", readonly=True, help="Why Meta rejected, paused or disabled it.")
    status_date = fields.Datetime(string="Status Changed On", readonly=True, copy=False)
    button_ids = fields.One2many("collection.whatsapp.button", "template_id", string="Reply Buttons", copy=True)
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
            template._sync_buttons(remote.get("components") or [])
            seen |= template
        (existing - seen).write({"status": "deleted", "last_sync": now})
        return seen

    def _sync_buttons(self, components):
        """A mapping line for each quick-reply button Meta lists that has none yet: mapped like
        the account's button of the same text, else to nothing until someone chooses."""
        self.ensure_one()
        Account = self.env["collection.whatsapp.account"]
        quick_replies = [
            button
            for component in components
            if isinstance(component, dict) and (component.get("type") or "").upper() == "BUTTONS"
            for button in component.get("buttons") or []
            if isinstance(button, dict) and (button.get("type") or "").upper() == "QUICK_REPLY" and button.get("text")
        ]
        known = set(self.button_ids.mapped("index"))
        defaults = {Account._normalize_keyword(b.name): b for b in self.account_id.button_ids if not b.template_id}
        values = []
        for index, button in enumerate(quick_replies):
            if index in known:
                continue
            default = defaults.get(Account._normalize_keyword(button["text"]))
            payload = default.payload if default else Account._normalize_keyword(button["text"]).replace(" ", "_")
            values.append(
                {
                    "account_id": self.account_id.id,
                    "template_id": self.id,
                    "index": index,
                    "name": button["text"],
                    "payload": payload,
                    "action": default.action if default else "none",
                }
            )
        return self.env["collection.whatsapp.button"].create(values)

    @api.model
    def _apply_status_update(self, accounts, value):
        """Meta's ``message_template_status_update``: the template (found by Meta's id, else by
        name and language) takes the new status and its reason. Events about templates we do not
        know, or Meta's quality flags, change nothing."""
        if not accounts or not isinstance(value, dict):
            return self.browse()
        event = str(value.get("event") or "").lower()
        status = STATUS_EVENTS.get(event)
        if not status:
            return self.browse()
        domain = [("account_id", "in", accounts.ids)]
        if value.get("message_template_id"):
            templates = self.with_context(active_test=False).search(
                domain + [("meta_id", "=", str(value["message_template_id"]))]
            )
        else:
            templates = self.browse()
        if not templates and value.get("message_template_name") and value.get("message_template_language"):
            templates = self.with_context(active_test=False).search(
                domain
                + [
                    ("name", "=", str(value["message_template_name"])),
                    ("language", "=", str(value["message_template_language"])),
                ]
            )
        if not templates:
            _logger.info("WhatsApp template status %s for unknown template %s ignored", event, value)
            return templates
        other_info = value.get("other_info") if isinstance(value.get("other_info"), dict) else {}
        reasons = [
            str(part)
            for part in (value.get("reason"), other_info.get("title"), other_info.get("description"))
            if part and str(part).upper() != "NONE"
        ]
        disable_date = (
            (value.get("disable_info") or {}).get("disable_date")
            if isinstance(value.get("disable_info"), dict)
            else None
        )
        if disable_date:
            reasons.append(_("disabled on %s", disable_date))
        templates.write(
            {
                "status": status,
                "rejected_reason": " — ".join(reasons) if status != "approved" else False,
                "status_date": fields.Datetime.now(),
            }
        )
        return templates

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

    def _get_button_components(self):
        """Quick-reply buttons with our payloads, so the webhook tells which one was pressed."""
        self.ensure_one()
        return [
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": str(button.index),
                "parameters": [{"type": "payload", "payload": button.payload}],
            }
            for button in self.button_ids.sorted("index")
            if button.payload
        ]

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
            status = dict(self._fields["status"]._description_selection(self.env)).get(self.status, self.status)
            if self.rejected_reason:
                status = f"{status}: {self.rejected_reason}"
            return _(
                "The WhatsApp template %(name)s is not approved by Meta (status: %(status)s).",
                name=self.display_name,
                status=status,
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
