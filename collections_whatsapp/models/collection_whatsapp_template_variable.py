from odoo import api, fields, models
from odoo.tools.misc import format_amount, format_date

VALUE_TYPES = [
    ("customer_name", "Customer name"),
    ("contact_name", "Contact name"),
    ("total_overdue", "Total overdue"),
    ("total_due", "Total reminded (due and overdue)"),
    ("oldest_due_date", "Oldest due date"),
    ("days_overdue", "Days overdue (oldest)"),
    ("invoice_numbers", "Invoice numbers"),
    ("invoice_count", "Number of invoices"),
    ("portal_url", "Customer link"),
    ("company_name", "Company name"),
    ("company_phone", "Company phone"),
    ("level_name", "Reminder level"),
    ("fixed", "Fixed text"),
]
MAX_PARAMETER_LENGTH = 1000


class CollectionWhatsappTemplateVariable(models.Model):
    _name = "collection.whatsapp.template.variable"
    _description = "WhatsApp Template Variable"
    _order = "template_id, sequence, id"

    template_id = fields.Many2one("collection.whatsapp.template", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="template_id.company_id", store=True, index=True)
    sequence = fields.Integer(default=10)
    placeholder = fields.Char(required=True, help="1 for {{1}}, or the name of a named variable.")
    value_type = fields.Selection(VALUE_TYPES, string="Value", required=True, default="customer_name")
    fixed_value = fields.Char(translate=True)

    _unique_placeholder = models.Constraint("UNIQUE(template_id, placeholder)", "A variable appears once per template.")

    @api.depends("placeholder")
    def _compute_display_name(self):
        for variable in self:
            variable.display_name = "{{%s}}" % (variable.placeholder or "")

    @api.model
    def _clean(self, text):
        """Meta refuses parameters with new lines, tabs or more than four spaces in a row."""
        text = " ".join(str(text or "").split())
        if len(text) > MAX_PARAMETER_LENGTH:
            text = text[: MAX_PARAMETER_LENGTH - 1] + "…"
        return text or "-"

    def _get_value(self, communication):
        self.ensure_one()
        lang = communication.recipient_id.lang or communication.partner_id.lang or self.env.lang
        env = self.with_context(lang=lang).env
        today = fields.Date.context_today(communication)
        lines = communication.line_ids
        value_type = self.value_type
        if value_type == "customer_name":
            value = communication.partner_id.name
        elif value_type == "contact_name":
            value = (communication.recipient_id or communication.partner_id).name
        elif value_type in ("total_overdue", "total_due"):
            index = 2 if value_type == "total_overdue" else 1
            totals = [total for total in communication._get_totals_by_currency() if total[index]]
            value = ", ".join(
                format_amount(env, total[index], total[0], lang_code=lang) for total in totals
            ) or format_amount(env, 0.0, communication.company_id.currency_id, lang_code=lang)
        elif value_type == "oldest_due_date":
            dates = [d for d in lines.mapped("date_maturity") if d]
            value = format_date(env, min(dates), lang_code=lang) if dates else ""
        elif value_type == "days_overdue":
            dates = [d for d in lines.mapped("date_maturity") if d]
            value = str(max((today - min(dates)).days, 0)) if dates else "0"
        elif value_type == "invoice_numbers":
            value = ", ".join(communication._get_lines_sorted().move_id.mapped("name"))
        elif value_type == "invoice_count":
            value = str(len(lines.move_id))
        elif value_type == "portal_url":
            value = communication.portal_url
        elif value_type == "company_name":
            value = communication.company_id.name
        elif value_type == "company_phone":
            value = communication.company_id.phone
        elif value_type == "level_name":
            value = communication.level_id.with_context(lang=lang).name
        else:
            value = self.with_context(lang=lang).fixed_value
        return self._clean(value)
