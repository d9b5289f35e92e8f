from markupsafe import Markup

from odoo import _, fields, models
from odoo.exceptions import UserError


class CollectionPromise(models.Model):
    _inherit = "collection.promise"

    state = fields.Selection(
        selection_add=[("proposed", "Proposed"), ("open",), ("refused", "Refused")],
        ondelete={
            "proposed": lambda promises: promises.write({"state": "cancelled"}),
            "refused": lambda promises: promises.write({"state": "cancelled"}),
        },
    )
    portal_link_id = fields.Many2one(
        "collection.portal.link",
        string="From Portal Link",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="Set when the customer made this promise or asked for this plan online.",
    )

    def action_accept_plan(self):
        """Accept a payment plan the customer proposed: it becomes an open promise, which pauses
        the dunning of its instalments."""
        proposed = self.filtered(lambda promise: promise.state == "proposed")
        if not proposed:
            raise UserError(_("Only proposed payment plans can be accepted."))
        proposed.write({"state": "open"})
        proposed._log_plan_decision(_("Payment plan accepted"))
        if hasattr(proposed, "_on_open"):
            proposed._on_open()
        return True

    def action_refuse_plan(self):
        proposed = self.filtered(lambda promise: promise.state == "proposed")
        if not proposed:
            raise UserError(_("Only proposed payment plans can be refused."))
        proposed.write({"state": "refused"})
        proposed._log_plan_decision(_("Payment plan refused"))
        return True

    def _log_plan_decision(self, subject):
        for promise in self:
            promise.message_post(body=subject, message_type="comment", subtype_xmlid="mail.mt_note")
            case = self.env["collection.case"].search(
                [
                    ("partner_id", "=", promise.partner_id.id),
                    ("company_id", "=", promise.company_id.id),
                ],
                limit=1,
            )
            if case:
                case.message_post(
                    body=Markup("%s: %s") % (subject, promise.display_name),
                    message_type="comment",
                    subtype_xmlid="mail.mt_note",
                )
            # Collectors read communications; the log entry of the decision is written by Collections.
            self.env["collection.communication"].sudo().create(
                {
                    "subject": subject,
                    "company_id": promise.company_id.id,
                    "partner_id": promise.partner_id.id,
                    "direction": "outbound",
                    "channel": "note",
                    "state": "done",
                    "line_ids": [fields.Command.set(promise.line_ids.ids)],
                    "amount_total": promise.amount,
                }
            )
