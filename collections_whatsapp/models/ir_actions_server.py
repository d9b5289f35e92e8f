from collections import defaultdict

from odoo import _, api, fields, models
from odoo.fields import Domain

# Models the "Send WhatsApp (collections)" action runs on.
COLLECTION_WHATSAPP_MODELS = (
    "res.partner",
    "account.move",
    "collection.case",
    "collection.promise",
    "collection.dispute",
)


class IrActionsServer(models.Model):
    """A server action that sends a collections WhatsApp template, for automation rules and
    contextual actions on customers, invoices, cases, promises and disputes."""

    _inherit = "ir.actions.server"

    state = fields.Selection(
        selection_add=[("collection_whatsapp", "Send WhatsApp (collections)")],
        ondelete={"collection_whatsapp": "cascade"},
    )
    collection_whatsapp_template_id = fields.Many2one(
        "collection.whatsapp.template",
        string="WhatsApp Template",
        compute="_compute_collection_whatsapp_template_id",
        store=True,
        readonly=False,
        ondelete="set null",
        domain="[('status', '=', 'approved')]",
        help="A template approved by Meta; its variables are filled from the record (customer, its "
        "instalments, the customer's link). The customer's language picks the variant of the same name, "
        "the record's company the account.",
    )

    def _name_depends(self):
        return [*super()._name_depends(), "collection_whatsapp_template_id"]

    def _generate_action_name(self):
        self.ensure_one()
        if self.state == "collection_whatsapp" and self.collection_whatsapp_template_id:
            return _("Send WhatsApp %(template)s", template=self.collection_whatsapp_template_id.display_name)
        return super()._generate_action_name()

    @api.depends("state")
    def _compute_available_model_ids(self):
        whatsapp = self.filtered(lambda action: action.state == "collection_whatsapp")
        if whatsapp:
            models_ = self.env["ir.model"].search([("model", "in", COLLECTION_WHATSAPP_MODELS)])
            for action in whatsapp:
                action.available_model_ids = models_.ids
        return super(IrActionsServer, self - whatsapp)._compute_available_model_ids()

    @api.depends("state")
    def _compute_collection_whatsapp_template_id(self):
        self.filtered(lambda action: action.state != "collection_whatsapp").collection_whatsapp_template_id = False

    @api.model
    def _warning_depends(self):
        return [*super()._warning_depends(), "state", "model_id"]

    def _get_warning_messages(self):
        self.ensure_one()
        warnings = super()._get_warning_messages()
        if self.state == "collection_whatsapp" and self.model_id.model not in COLLECTION_WHATSAPP_MODELS:
            warnings.append(
                _("Collections WhatsApp messages go out from customers, invoices, cases, promises and disputes only.")
            )
        return warnings

    def _run_action_collection_whatsapp_multi(self, eval_context=None):
        records = eval_context.get("records") or eval_context.get("record")
        if not records or self._is_recompute():
            return False
        communications = self._collection_whatsapp_send(records)
        return self._collection_whatsapp_notification(communications)

    # ------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------

    def _collection_whatsapp_send(self, records):
        """Send this action's template to the customers of ``records``: one communication per
        customer and company covering the instalments the records are about, to the customer's
        collections contact, handed to the WhatsApp channel (opt-outs, opt-in, number and template
        checks, the queue). Templates are allowed outside the 24-hour window, so the window does
        not hold them back. Returns the communications, failed ones with their reason."""
        self.ensure_one()
        Communication = self.env["collection.communication"]
        targets = defaultdict(lambda: self.env["account.move.line"])
        for partner, company, lines in self._collection_whatsapp_targets(records):
            targets[partner, company] |= lines
        if not targets:
            return Communication
        partners = self.env["res.partner"].union(*(partner for partner, __ in targets))
        recipients = partners._get_collection_recipients()
        templates = {}
        values, unavailable = [], {}
        for (partner, company), lines in targets.items():
            if company not in templates:
                templates[company] = self._collection_whatsapp_template_for(company)
            template = templates[company]
            values.append(
                {
                    "subject": self.name,
                    "company_id": company.id,
                    "partner_id": partner.id,
                    "recipient_id": recipients[partner.id].id,
                    "channel": "whatsapp",
                    "direction": "outbound",
                    "state": "queued",
                    "line_ids": [fields.Command.set(lines.ids)],
                    "amount_total": sum(lines.mapped("amount_residual")),
                    "whatsapp_template_id": template.id,
                }
            )
            if not template:
                unavailable[len(values) - 1] = company
        communications = Communication.create(values)
        without_template = Communication.browse([communications[index].id for index in unavailable])
        for communication in without_template:
            communication._mark_failed(
                _(
                    "No approved WhatsApp template %(template)s for %(company)s.",
                    template=self.collection_whatsapp_template_id.name or "",
                    company=communication.company_id.name,
                ),
                fallback=False,
            )
        (communications - without_template)._send()
        return communications

    def _collection_whatsapp_template_for(self, company):
        """This action's template, or its approved namesake in a WhatsApp account of ``company``."""
        template = self.collection_whatsapp_template_id
        if not template or template.company_id == company:
            return template
        return (
            self.env["collection.whatsapp.template"]
            .sudo()
            .search(
                [("name", "=", template.name), ("status", "=", "approved"), ("company_id", "=", company.id)],
                order="id",
                limit=1,
            )
        )

    @api.model
    def _collection_whatsapp_targets(self, records):
        """[(commercial partner, company, instalments)] the records are about: a promise or a dispute
        its instalments, an invoice its receivable instalments, a case or a customer every open
        instalment of the customer in the company (one query for all of them)."""
        model = records._name
        if model in ("collection.promise", "collection.dispute"):
            return [(record.partner_id.commercial_partner_id, record.company_id, record.line_ids) for record in records]
        if model == "account.move":
            return [
                (
                    move.commercial_partner_id,
                    move.company_id,
                    move.line_ids.filtered(
                        lambda line: (
                            line.display_type == "payment_term" and line.account_id.account_type == "asset_receivable"
                        )
                    ),
                )
                for move in records
                if move.is_sale_document(include_receipts=True)
            ]
        if model == "collection.case":
            pairs = [(case.partner_id, case.company_id) for case in records]
        else:
            pairs = [(partner.commercial_partner_id, partner.company_id or self.env.company) for partner in records]
        AML = self.env["account.move.line"].sudo()
        open_lines = AML.search(
            Domain("partner_id", "in", [partner.id for partner, __ in pairs])
            & Domain("company_id", "in", [company.id for __, company in pairs])
            & AML._collection_open_domain()
        )
        by_key = open_lines.grouped(lambda line: (line.partner_id.id, line.company_id.id))
        return [
            (partner, company, by_key.get((partner.id, company.id), AML).with_env(self.env))
            for partner, company in pairs
        ]

    def _collection_whatsapp_notification(self, communications):
        """A notification saying what was queued and, per customer, why nothing was sent."""
        if not communications:
            return False
        failed = communications.filtered(lambda c: c.state == "failed")
        lines = [_("%(count)s WhatsApp message(s) queued.", count=len(communications - failed))]
        lines += [
            _(
                "%(customer)s: %(reason)s",
                customer=communication.partner_id.display_name,
                reason=communication.failure_reason,
            )
            for communication in failed
        ]
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.name,
                "message": "\n".join(lines),
                "type": "warning" if failed else "success",
                "sticky": bool(failed),
            },
        }
