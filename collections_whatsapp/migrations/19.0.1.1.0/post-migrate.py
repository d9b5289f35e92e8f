from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    """The transport moved to collection.whatsapp.message: give every communication still
    queued its message (a communication flagged as being sent by a run that died becomes a
    message of unknown outcome, never sent again), and keep each opted-out customer's number
    opted out."""
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    Communication = env["collection.communication"]
    queued = Communication.search(
        [
            ("channel", "=", "whatsapp"),
            ("direction", "=", "outbound"),
            ("state", "=", "queued"),
            ("whatsapp_account_id", "!=", False),
            ("whatsapp_number", "!=", False),
            ("whatsapp_message_id", "=", False),
        ]
    )
    cr.execute("SELECT id FROM collection_communication WHERE whatsapp_sending IS TRUE AND id = ANY(%s)", [queued.ids])
    sending = {row[0] for row in cr.fetchall()}
    messages = env["collection.whatsapp.message"]._enqueue(queued)
    messages.filtered(lambda m: m.communication_id.id in sending).write({"sending": True})
    partners = env["res.partner"].with_context(active_test=False).search([("whatsapp_optout", "=", True)])
    partners._whatsapp_sync_number_optout(True, "import")
