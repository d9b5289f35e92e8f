import base64
import json
import logging
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged

from .common import WhatsappCommon

WEBHOOK = "/collections_whatsapp/webhook"
WA_ID = "5214771234567"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


class WhatsappInboundCommon(WhatsappCommon, HttpCase):
    """Meta-shaped, signed notifications posted to the real webhook route."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.collector = new_test_user(
            cls.env,
            login="cobrador_inbound",
            name="Cobradora Inbound",
            groups="base.group_user,collections_management.collections_management_group_collector",
        )
        cls.webhook_user = new_test_user(
            cls.env,
            login="cobranza_bot",
            name="Cobranza Webhook",
            groups="base.group_user,collections_management.collections_management_group_manager",
        )
        cls.account.user_id = cls.webhook_user
        cls.case = cls.env["collection.case"].create(
            {"partner_id": cls.customer.id, "company_id": cls.company.id, "user_id": cls.collector.id}
        )
        cls.sequence = 0

    def _post_value(self, value, field="messages"):
        payload = {
            "object": "whatsapp_business_account",
            "entry": [{"id": self.fake.waba_id, "changes": [{"field": field, "value": value}]}],
        }
        body = self._json(payload)
        response = self.url_open(
            WEBHOOK, data=body, headers={"Content-Type": "application/json", "X-Hub-Signature-256": self._sign(body)}
        )
        self.assertEqual(response.status_code, 200, response.text)
        self.env.invalidate_all()
        return response

    def _message(self, kind, content, wa_id=WA_ID, contacts=None, **extra):
        type(self).sequence += 1
        message = {
            "from": wa_id,
            "id": f"wamid.INBOUND{self.sequence:04d}",
            "timestamp": str(int(fields.Datetime.now().timestamp())),
            "type": kind,
            **extra,
        }
        if content is not None:
            message[kind] = content
        if wa_id is None:
            del message["from"]
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "5215512345678", "phone_number_id": self.account.phone_number_id},
            "contacts": contacts if contacts is not None else [{"profile": {"name": "Don Beto"}, "wa_id": wa_id}],
            "messages": [message],
        }
        self._post_value(value)
        return message["id"]

    def _inbound(self, message_id):
        return self.Communication.search([("external_id", "=", message_id), ("direction", "=", "inbound")])

    def _download(self):
        return self.Communication._cron_whatsapp_download_media()

    def _reply_tasks(self):
        return self.case.activity_ids.filtered(lambda a: "Reply to" in (a.summary or ""))

    def _sent_reminder(self):
        self._invoice(self.customer, 1000.0, 10)
        self._run()
        self._send_queue()
        reminder = self._whatsapp(level_id=self.level_first.id)
        self.assertEqual(reminder.state, "sent")
        self.fake.reset()
        return reminder


@tagged("post_install", "-at_install")
class TestWhatsappMedia(WhatsappInboundCommon):
    def test_image_is_downloaded_and_attached_to_the_communication_and_the_case(self):
        self.fake.media["1085431296213561"] = (PNG, "image/png")
        message_id = self._message(
            "image",
            {
                "caption": "Comprobante de transferencia",
                "mime_type": "image/png",
                "sha256": "x",
                "id": "1085431296213561",
            },
        )
        inbound = self._inbound(message_id)
        self.assertRecordValues(inbound, [{"whatsapp_media_state": "pending", "whatsapp_media_id": "1085431296213561"}])
        self.assertIn("Comprobante de transferencia", inbound.body, "the message is kept before the file")
        self._download()
        self.assertEqual(inbound.whatsapp_media_state, "done")
        [attachment] = inbound.whatsapp_attachment_ids
        self.assertEqual((attachment.raw, attachment.mimetype), (PNG, "image/png"))
        posted = self.case.message_ids.filtered(lambda m: attachment in m.attachment_ids)
        self.assertEqual(len(posted), 1, "the file is in the case's chatter")
        downloads = [r for r in self.fake.requests if r["kind"] == "download"]
        self.assertEqual(len(downloads), 1)
        self.assertEqual(downloads[0]["headers"]["Authorization"], f"Bearer {self.fake.token}")
        # The collector opens the proof from the case's chatter.
        self.authenticate(self.collector.login, self.collector.login)
        response = self.url_open(f"/web/content/{attachment.id}?download=true")
        self.assertEqual((response.status_code, response.content), (200, PNG))
        self.assertEqual(len(self._reply_tasks()), 1, "a file is a message: the collector answers it")

    def test_collector_opens_the_proof_from_the_case(self):
        self.fake.media["proof-png"] = (PNG, "image/png")
        self._message("image", {"caption": "Transferencia", "mime_type": "image/png", "id": "proof-png"})
        self._download()
        self.start_tour(
            f"/odoo/collection.case/{self.case.id}", "collections_whatsapp_open_proof_tour", login=self.collector.login
        )

    def test_document_keeps_its_file_name(self):
        self.fake.media["doc-77"] = (PDF, "application/pdf")
        message_id = self._message(
            "document",
            {"caption": "Pago", "filename": "transferencia_marzo.pdf", "mime_type": "application/pdf", "id": "doc-77"},
        )
        self._download()
        inbound = self._inbound(message_id)
        self.assertRecordValues(inbound.whatsapp_attachment_ids, [{"name": "transferencia_marzo.pdf", "raw": PDF}])

    def test_voice_note_is_downloaded(self):
        ogg = b"OggS\x00\x02" + b"\x00" * 200
        self.fake.media["voice-1"] = (ogg, "audio/ogg")
        message_id = self._message("audio", {"mime_type": "audio/ogg; codecs=opus", "id": "voice-1", "voice": True})
        self._download()
        inbound = self._inbound(message_id)
        self.assertEqual(inbound.whatsapp_media_state, "done")
        self.assertEqual(inbound.whatsapp_attachment_ids.raw, ogg)

    def test_failed_download_is_retried_and_the_message_kept(self):
        self.fake.media["img-9"] = (PNG, "image/png")
        self.fake.media_failures["img-9"] = 4  # the first call and its 3 retries all fail
        message_id = self._message("image", {"mime_type": "image/png", "id": "img-9"})
        self._download()
        inbound = self._inbound(message_id)
        self.assertRecordValues(inbound, [{"whatsapp_media_state": "pending", "whatsapp_media_attempts": 1}])
        self.assertFalse(inbound.whatsapp_attachment_ids)
        self._download()
        self.assertEqual(inbound.whatsapp_media_state, "done")
        self.assertEqual(inbound.whatsapp_attachment_ids.raw, PNG)

    def test_download_given_up_after_several_runs_says_so(self):
        self.fake.media["img-10"] = (PNG, "image/png")
        self.fake.media_failures["img-10"] = 1000
        message_id = self._message("image", {"caption": "mi pago", "mime_type": "image/png", "id": "img-10"})
        for __ in range(5):
            self._download()
        inbound = self._inbound(message_id)
        self.assertEqual(inbound.whatsapp_media_state, "failed")
        self.assertIn("mi pago", inbound.body)
        self.assertTrue(self.case.message_ids.filtered(lambda m: "could not be kept" in (m.body or "")))

    def test_too_large_file_is_refused(self):
        self.account.media_max_size = 0.001  # about 1 KB
        self.fake.media["big"] = (PDF + b"0" * 5000, "application/pdf")
        message_id = self._message("document", {"filename": "big.pdf", "mime_type": "application/pdf", "id": "big"})
        self._download()
        inbound = self._inbound(message_id)
        self.assertRecordValues(inbound, [{"whatsapp_media_state": "refused"}])
        self.assertIn("larger than", inbound.whatsapp_media_error)
        self.assertFalse(inbound.whatsapp_attachment_ids)
        self.assertFalse([r for r in self.fake.requests if r["kind"] == "download"], "not even downloaded")

    def test_type_not_accepted_or_not_what_it_claims_is_refused(self):
        self.fake.media["exe"] = (b"MZ\x90\x00" + b"\x00" * 100, "application/x-msdownload")
        self.fake.media["fake-pdf"] = (PNG, "application/pdf")
        first = self._message(
            "document", {"filename": "factura.exe", "mime_type": "application/x-msdownload", "id": "exe"}
        )
        second = self._message("document", {"filename": "recibo.pdf", "mime_type": "application/pdf", "id": "fake-pdf"})
        self._download()
        self.assertEqual(self._inbound(first).whatsapp_media_state, "refused")
        self.assertIn("not accepted", self._inbound(first).whatsapp_media_error)
        self.assertEqual(self._inbound(second).whatsapp_media_state, "refused")
        self.assertIn("claims to be application/pdf but is image/png", self._inbound(second).whatsapp_media_error)
        self.assertFalse(self.env["ir.attachment"].search([("res_model", "=", "collection.communication")]))

    def test_location_and_contacts_are_readable(self):
        location = self._message(
            "location",
            {"latitude": 21.1221, "longitude": -101.6827, "name": "Sucursal Centro", "address": "Madero 120, León"},
        )
        self.assertIn("Sucursal Centro", self._inbound(location).body)
        self.assertIn("Madero 120, León", self._inbound(location).body)
        self.assertIn("21.1221, -101.6827", self._inbound(location).body)
        card = self._message(
            "contacts",
            None,
            contacts=[{"profile": {"name": "Don Beto"}, "wa_id": WA_ID}],
        )
        self.assertTrue(self._inbound(card))
        shared = {
            "name": {"formatted_name": "Lucía Pérez", "first_name": "Lucía"},
            "phones": [{"phone": "+52 477 555 0101", "type": "WORK", "wa_id": "5214775550101"}],
            "emails": [{"email": "lucia@abarrotes.example.com", "type": "WORK"}],
        }
        type(self).sequence += 1
        self._post_value(
            {
                "messaging_product": "whatsapp",
                "metadata": {"phone_number_id": self.account.phone_number_id},
                "contacts": [{"profile": {"name": "Don Beto"}, "wa_id": WA_ID}],
                "messages": [
                    {
                        "from": WA_ID,
                        "id": "wamid.CARD",
                        "timestamp": "1760000000",
                        "type": "contacts",
                        "contacts": [shared],
                    }
                ],
            }
        )
        body = self._inbound("wamid.CARD").body
        for part in ("Lucía Pérez", "+52 477 555 0101", "lucia@abarrotes.example.com"):
            self.assertIn(part, body)


@tagged("post_install", "-at_install")
class TestWhatsappNoise(WhatsappInboundCommon):
    def _counts(self):
        return (
            self.Communication.search_count([]),
            len(self.case.activity_ids),
            len(self.case.message_ids),
        )

    def test_reaction_is_shown_on_the_message_and_creates_nothing(self):
        reminder = self._sent_reminder()
        before = self._counts()
        self._message("reaction", {"message_id": reminder.external_id, "emoji": "\U0001f44d"})
        self.assertEqual(self._counts(), before, "no communication, task or post")
        self.assertEqual(reminder.whatsapp_reaction, "\U0001f44d")
        self._message("reaction", {"message_id": reminder.external_id, "emoji": ""})
        self.assertFalse(reminder.whatsapp_reaction, "removing the reaction removes it")
        self.assertEqual(self._counts(), before)

    def test_sticker_and_read_receipt_create_no_task(self):
        reminder = self._sent_reminder()
        message_id = self._message(
            "sticker", {"mime_type": "image/webp", "sha256": "x", "id": "st-1", "animated": False}
        )
        self.assertTrue(self._inbound(message_id), "the sticker is logged")
        self.assertFalse(self._inbound(message_id).whatsapp_media_state, "not downloaded")
        self._post_value(
            self._status_payload(reminder.external_id, "read", self.account.phone_number_id)["entry"][0]["changes"][0][
                "value"
            ]
        )
        self.assertEqual(reminder.state, "read")
        self.assertFalse(self.case.activity_ids, "no task for a sticker or a read receipt")
        post = self.case.message_ids.filtered(lambda m: "[sticker]" in (m.body or ""))
        self.assertFalse(post.partner_ids, "the collector is not pinged")

    def test_system_number_change_keeps_the_opt_out_and_is_a_system_note(self):
        self._message("text", {"body": "STOP"})
        self.assertTrue(self.env["collection.whatsapp.optout"]._optout_numbers(["+524771234567"]))
        count = self.Communication.search_count([("direction", "=", "inbound")])
        self._message(
            "system",
            {
                "body": "Don Beto changed from +52 1 477 123 4567 to +52 1 477 999 8877",
                "new_wa_id": "5214779998877",
                "type": "user_changed_number",
            },
        )
        self.assertEqual(self.customer.phone, "+524779998877")
        self.assertEqual(self.customer.phone_sanitized, "+524779998877")
        self.assertTrue(self.env["collection.whatsapp.optout"]._optout_numbers(["+524779998877"]), "still opted out")
        self.assertEqual(self.Communication.search_count([("direction", "=", "inbound")]), count, "not a message")
        note = self.case.message_ids.filtered(lambda m: "changed their number" in (m.body or ""))
        self.assertEqual(len(note), 1)
        self.assertEqual(note.message_type, "notification")
        self.assertNotEqual(note.author_id, self.customer)
        self.assertIn("+524779998877", note.body)

    def test_activities_are_created_by_the_collections_user(self):
        self._message("text", {"body": "¿Cuánto debo?"})
        [task] = self._reply_tasks()
        self.assertEqual(task.create_uid, self.webhook_user)
        self.assertEqual(task.user_id, self.collector)
        self._message("text", {"body": "Ya vi el correo"})
        self.assertEqual(len(self._reply_tasks()), 1)
        self.assertIn("Ya vi el correo", str(task.note), "the open to-do shows the latest message too")

    def test_notes_in_the_customer_language(self):
        self.env["res.lang"]._activate_lang("es_MX")
        self.env["ir.module.module"]._load_module_terms(["collections_whatsapp"], ["es_MX"], overwrite=True)
        self.customer.lang = "es_MX"
        self._message("text", {"body": "BAJA"})
        note = self.case.message_ids.filtered(lambda m: m.message_type == "notification")
        self.assertIn("El cliente", note.body)


@tagged("post_install", "-at_install")
class TestWhatsappUserIds(WhatsappInboundCommon):
    def test_message_without_phone_is_matched_by_user_id(self):
        first = self._message(
            "text",
            {"body": "Hola"},
            wa_id=None,
            contacts=[{"profile": {"name": "Don Beto"}, "wa_id": WA_ID, "user_id": "MX.4471"}],
            from_user_id="MX.4471",
        )
        self.assertEqual(self._inbound(first).partner_id, self.customer)
        self.assertEqual(self.customer.whatsapp_user_id, "MX.4471")
        second = self._message(
            "text",
            {"body": "¿Sigue ahí?"},
            wa_id=None,
            contacts=[{"profile": {"name": "Don Beto"}, "user_id": "MX.4471"}],
            from_user_id="MX.4471",
        )
        self.assertRecordValues(self._inbound(second), [{"partner_id": self.customer.id}])

    def test_unknown_user_id_is_logged_not_silently_dropped(self):
        count = self.Communication.search_count([])
        with self.assertLogs(
            "odoo.addons.collections_whatsapp.models.collection_communication", logging.WARNING
        ) as logs:
            self._message(
                "text",
                {"body": "Hola"},
                wa_id=None,
                contacts=[{"profile": {"name": "?"}, "user_id": "MX.9999"}],
                from_user_id="MX.9999",
            )
        self.assertIn("MX.9999", logs.output[0])
        self.assertEqual(self.Communication.search_count([]), count)


@tagged("post_install", "-at_install")
class TestWhatsappTemplateStatus(WhatsappInboundCommon):
    def _event(self, event, **extra):
        self._post_value(
            {
                "event": event,
                "message_template_id": 594425479261596,
                "message_template_name": self.template_en.name,
                "message_template_language": self.template_en.language,
                "reason": "NONE",
                **extra,
            },
            field="message_template_status_update",
        )

    def test_paused_template_warns_on_the_level_then_reinstated(self):
        self.assertFalse(self.level_first.whatsapp_template_warning)
        self._event("PAUSED", other_info={"title": "FIRST_PAUSE", "description": "Low quality: customers blocked it"})
        self.assertRecordValues(self.template_en, [{"status": "paused"}])
        self.assertIn("Low quality", self.template_en.rejected_reason)
        self.assertIn("not approved by Meta", self.level_first.whatsapp_template_warning)
        self.assertIn("Low quality", self.level_first.whatsapp_template_warning)
        self._invoice(self.customer, 1000.0, 10)
        self._run()
        self._send_queue()
        reminder = self._whatsapp(level_id=self.level_first.id)
        self.assertEqual(reminder.state, "failed")
        self.assertFalse(self.fake.message_sends(), "not even tried")
        self._event("REINSTATED")
        self.assertRecordValues(self.template_en, [{"status": "approved", "rejected_reason": False}])
        self.assertFalse(self.level_first.whatsapp_template_warning)

    def test_disabled_and_rejected_with_reason(self):
        self.template_en.meta_id = "594425479261596"
        self._event("DISABLED", disable_info={"disable_date": "2026-12-01"})
        self.assertEqual(self.template_en.status, "disabled")
        self.assertIn("2026-12-01", self.template_en.rejected_reason)
        self._event("REJECTED", reason="INCORRECT_CATEGORY")
        self.assertRecordValues(self.template_en, [{"status": "rejected", "rejected_reason": "INCORRECT_CATEGORY"}])
        self.assertEqual(self.template_es.status, "approved", "only that language")


@tagged("post_install", "-at_install")
class TestWhatsappButtons(WhatsappInboundCommon):
    def _press(self, reminder, payload, text):
        return self._message(
            "button", {"payload": payload, "text": text}, context={"from": "5215512345678", "id": reminder.external_id}
        )

    def _replies(self):
        return self.Communication.search(
            [("partner_id", "=", self.customer.id), ("direction", "=", "outbound"), ("whatsapp_text", "!=", False)]
        )

    def test_pay_now_answers_with_the_customer_link(self):
        reminder = self._sent_reminder()
        message_id = self._press(reminder, "PAY_NOW", "Pagar ahora")
        self.assertIn("Pagar ahora", self._inbound(message_id).body, "the answer is logged")
        reply = self._replies()
        self.assertTrue(reply.portal_url)
        self._send_queue()
        [request] = self.fake.message_sends()
        self.assertIn(reply.portal_url, request["body"]["text"]["body"])
        self.assertFalse(self._reply_tasks(), "the customer got what they asked for")

    def test_payment_plan_answers_with_the_plan_form(self):
        reminder = self._sent_reminder()
        self._press(reminder, "PAYMENT_PLAN", "Plan de pagos")
        self._send_queue()
        [request] = self.fake.message_sends()
        self.assertIn("#o_collections_plan_form", request["body"]["text"]["body"])

    def test_talk_to_someone_gives_the_collector_a_task(self):
        reminder = self._sent_reminder()
        self._press(reminder, "TALK_TO_SOMEONE", "Hablar con alguien")
        task = self.case.activity_ids.filtered(lambda a: "asked to talk" in (a.summary or ""))
        self.assertRecordValues(task, [{"user_id": self.collector.id, "create_uid": self.webhook_user.id}])
        self.assertFalse(self.fake.message_sends())

    def test_already_paid_asks_for_the_proof_and_the_file_is_a_payment_to_verify(self):
        reminder = self._sent_reminder()
        later_invoice = self._invoice(self.customer, 400.0, 8)
        self._press(reminder, "ALREADY_PAID", "Ya pagué")
        self._send_queue()
        [request] = self.fake.message_sends()
        self.assertIn("proof of payment", request["body"]["text"]["body"])
        self.assertTrue(self.customer.whatsapp_proof_requested_date)
        self.fake.media["proof-1"] = (PDF, "application/pdf")
        self._message("document", {"filename": "spei.pdf", "mime_type": "application/pdf", "id": "proof-1"})
        self._download()
        # The same payment to verify as from the customer page, for the reminder's invoices.
        claim = self.env["collection.payment.claim"].search([("partner_id", "=", self.customer.id)])
        self.assertRecordValues(
            claim, [{"source": "whatsapp", "state": "to_verify", "case_id": self.case.id, "user_id": self.collector.id}]
        )
        self.assertEqual(claim.line_ids, reminder.line_ids)
        self.assertTrue(claim.is_paused)
        task = claim.activity_ids
        self.assertRecordValues(task, [{"summary": "Verify payment proof", "user_id": self.collector.id}])
        self.assertEqual(claim.attachment_ids.with_user(self.collector).raw, PDF, "the collector opens the proof")
        self.assertEqual(claim.attachment_ids.name, "spei.pdf")
        self.assertFalse(self.customer.whatsapp_proof_requested_date)
        self.assertFalse(self.customer.whatsapp_proof_reminder_id)
        # Dunning pauses on the claimed invoice only: the next reminder is about the later one.
        self.fake.reset()
        self._run(date=self.today + timedelta(days=1))
        self._send_queue()
        latest = self._whatsapp(level_id=self.level_first.id)[-1]
        self.assertEqual(latest.line_ids, self._instalments(later_invoice))

    def test_proof_after_already_paid_is_in_the_case_chatter_once(self):
        reminder = self._sent_reminder()
        self._press(reminder, "ALREADY_PAID", "Ya pagué")
        self.fake.media["proof-once"] = (PDF, "application/pdf")
        message_id = self._message(
            "document", {"filename": "transferencia.pdf", "mime_type": "application/pdf", "id": "proof-once"}
        )
        self._download()
        claim = self.env["collection.payment.claim"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(claim.with_user(self.collector).attachment_ids.mapped("name"), ["transferencia.pdf"])
        # What the collector sees in the case's chatter: the payment to verify, with its file, once.
        messages = self.case.with_user(self.collector).message_ids
        with_proof = messages.filtered(lambda m: "transferencia.pdf" in m.attachment_ids.mapped("name"))
        self.assertEqual(len(with_proof), 1, "the proof is shown once")
        self.assertEqual(with_proof.attachment_ids, claim.attachment_ids, "the claim's file")
        self.assertIn("says they already paid", with_proof.body)
        self.assertEqual(messages.attachment_ids.mapped("name").count("transferencia.pdf"), 1)
        # The WhatsApp message keeps the file it carried.
        self.assertEqual(self._inbound(message_id).whatsapp_attachment_ids.raw, PDF)

    def test_already_paid_without_a_reminder_covers_every_overdue_invoice(self):
        overdue = self._invoice(self.customer, 250.0, 5) + self._invoice(self.customer, 150.0, 3)
        self._invoice(self.customer, 900.0, -5)
        self.customer.sudo().whatsapp_proof_requested_date = fields.Datetime.now()
        self.fake.media["proof-2"] = (PNG, "image/png")
        self._message("image", {"mime_type": "image/png", "id": "proof-2"})
        self._download()
        claim = self.env["collection.payment.claim"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(claim.line_ids, self._instalments(overdue), "overdue ones, not the one due later")
        self.assertEqual(claim.source, "whatsapp")

    def test_mapping_per_template_and_by_button_text(self):
        self.env["collection.whatsapp.button"].create(
            {
                "account_id": self.account.id,
                "template_id": self.template_en.id,
                "index": 0,
                "name": "Pagar ahora",
                "payload": "PAY_NOW",
                "action": "talk",
            }
        )
        reminder = self._sent_reminder()
        self.assertEqual(reminder.whatsapp_template_id, self.template_en)
        self._press(reminder, "PAY_NOW", "Pagar ahora")
        self.assertTrue(self.case.activity_ids.filtered(lambda a: "asked to talk" in (a.summary or "")))
        self.assertFalse(self._replies(), "the template's mapping wins")
        # Sent without our payload, Meta returns the button's text: the account's mapping by text.
        self._message("button", {"payload": "Plan de pagos", "text": "Plan de pagos"})
        self.assertIn("#o_collections_plan_form", self._replies().whatsapp_text)

    def test_template_carries_the_button_payloads(self):
        self.env["collection.whatsapp.button"].create(
            [
                {
                    "account_id": self.account.id,
                    "template_id": self.template_en.id,
                    "index": i,
                    "name": n,
                    "payload": p,
                    "action": a,
                }
                for i, (n, p, a) in enumerate(
                    [("Pay now", "PAY_NOW", "pay_link"), ("I already paid", "ALREADY_PAID", "already_paid")]
                )
            ]
        )
        self._sent_reminder()
        sent = self._whatsapp(level_id=self.level_first.id).whatsapp_message_id
        components = json.loads(sent.payload)["template"]["components"]
        self.assertEqual(
            components[1:],
            [
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": "0",
                    "parameters": [{"type": "payload", "payload": "PAY_NOW"}],
                },
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": "1",
                    "parameters": [{"type": "payload", "payload": "ALREADY_PAID"}],
                },
            ],
        )

    def test_free_text_still_lands_in_the_case(self):
        self._message("text", {"body": "Pagar ahora no puedo, la otra semana"})
        self.assertEqual(len(self._reply_tasks()), 1)
        self.assertFalse(self._replies())

    def test_synchronised_template_buttons_take_the_shipped_mapping(self):
        self.fake.templates = [
            {
                "id": "tpl-1",
                "name": "recordatorio_botones",
                "language": "es_MX",
                "status": "APPROVED",
                "category": "UTILITY",
                "components": [
                    {"type": "BODY", "text": "Hola {{1}}, debe {{2}}."},
                    {
                        "type": "BUTTONS",
                        "buttons": [
                            {"type": "QUICK_REPLY", "text": "Pagar ahora"},
                            {"type": "QUICK_REPLY", "text": "Ya pagué"},
                            {"type": "QUICK_REPLY", "text": "Otra cosa"},
                        ],
                    },
                ],
            }
        ]
        self.account.action_sync_templates()
        template = self.env["collection.whatsapp.template"].search([("name", "=", "recordatorio_botones")])
        self.assertEqual(
            [(b.index, b.payload, b.action) for b in template.button_ids.sorted("index")],
            [(0, "PAY_NOW", "pay_link"), (1, "ALREADY_PAID", "already_paid"), (2, "OTRA_COSA", "none")],
        )
        self.account.action_sync_templates()
        self.assertEqual(len(template.button_ids), 3, "synchronising again adds nothing")
