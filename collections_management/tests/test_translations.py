import os
import re
from collections import Counter

import polib

from odoo.modules.module import get_module_path
from odoo.tests import TransactionCase, tagged

from .common import CollectionsCommon

MODULES = ("collections_management", "collections_whatsapp", "collections_portal")
REGIONAL = ("es_419", "es_MX", "es_CO")

# What must stay untouched between a msgid and its msgstr.
PERCENT = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifr]")
JINJA = re.compile(r"\{\{.*?\}\}", re.S)
QWEB_ATTR = re.compile(r'\bt-[\w-]+="([^"]*)"')
TAG = re.compile(r"</?([a-zA-Z][\w.-]*)")


def _po_files(module):
    folder = os.path.join(get_module_path(module), "i18n")
    return {name: os.path.join(folder, name) for name in sorted(os.listdir(folder)) if name.endswith(".po")}


@tagged("post_install", "-at_install")
class TestPoFiles(TransactionCase):
    """The translation files themselves: regional files only override, nothing breaks a placeholder."""

    def test_regional_files_only_override_existing_terms(self):
        for module in MODULES:
            files = _po_files(module)
            base = {entry.msgid for entry in polib.pofile(files["es.po"]) if entry.msgid}
            pot_path = os.path.join(get_module_path(module), "i18n", f"{module}.pot")
            if os.path.exists(pot_path):
                base &= {entry.msgid for entry in polib.pofile(pot_path)}
            for lang in REGIONAL:
                with self.subTest(module=module, lang=lang):
                    self.assertIn(f"{lang}.po", files, "every module ships es_419, es_MX and es_CO")
                    po = polib.pofile(files[f"{lang}.po"])
                    self.assertEqual(po.metadata.get("Language"), lang)
                    orphans = [entry.msgid for entry in po if entry.msgid not in base]
                    self.assertFalse(orphans, f"{module}/{lang}.po overrides terms that es.po does not have")

    def test_translations_keep_every_placeholder(self):
        for module in MODULES:
            for name, path in _po_files(module).items():
                for entry in polib.pofile(path):
                    if not entry.msgid or not entry.msgstr:
                        continue
                    with self.subTest(file=f"{module}/{name}", msgid=entry.msgid[:60]):
                        for pattern in (PERCENT, JINJA, QWEB_ATTR):
                            self.assertEqual(
                                Counter(pattern.findall(entry.msgstr)), Counter(pattern.findall(entry.msgid))
                            )
                        self.assertEqual(Counter(TAG.findall(entry.msgstr)), Counter(TAG.findall(entry.msgid)))

    def test_no_harmful_notice(self):
        """'Prejudicial' means 'harmful': the pre-legal stage is worded per country instead."""
        for module in MODULES:
            for name, path in _po_files(module).items():
                for entry in polib.pofile(path):
                    self.assertNotIn("prejudicial", entry.msgstr.lower(), f"{module}/{name}: {entry.msgid}")


@tagged("post_install", "-at_install")
class TestDocumentsInTheRecipientsLanguage(CollectionsCommon):
    """A real run with the shipped policy, for customers in Mexico, Colombia and Spain: each
    e-mail, SMS and letter speaks the customer's Spanish, with its legal-collection wording."""

    LANGS = ("es_MX", "es_CO", "es_ES")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for lang in cls.LANGS:
            cls.env["res.lang"]._activate_lang(lang)
        cls.env["ir.module.module"].search([("name", "in", list(MODULES))])._update_translations(
            filter_lang=list(cls.LANGS)
        )
        # The policy, levels and templates as shipped (their names and bodies are translated),
        # moved to the test company (set-up as superuser: it belongs to another company until
        # then) and allowed to contact at any time.
        policy_sudo = cls.env.ref("collections_management.collection_policy_default").sudo()
        policy_sudo.write(
            {
                "company_id": cls.company.id,
                "min_days_between_contacts": 0,
                "max_contacts_per_week": 0,
                "contact_hour_from": 0.0,
                "contact_hour_to": 24.0,
                **dict.fromkeys(
                    [f"contact_{day}" for day in ("monday", "tuesday", "wednesday", "thursday", "friday")]
                    + ["contact_saturday", "contact_sunday"],
                    True,
                ),
            }
        )
        policy = policy_sudo.sudo(False)
        cls.company.collection_policy_id = policy
        cls.customers = {}
        for lang, (name, country, city) in zip(
            cls.LANGS,
            [
                ("Farmacias Santa Lucía", "base.mx", "Guadalajara"),
                ("Café de los Andes", "base.co", "Medellín"),
                ("Talleres Mecánicos Ebro", "base.es", "Zaragoza"),
            ],
            strict=True,
        ):
            cls.customers[lang] = cls.env["res.partner"].create(
                {
                    "name": name,
                    "is_company": True,
                    "email": f"cobros@{lang.lower()}.example.com",
                    "phone": "+52 33 3615 2200",
                    "country_id": cls.env.ref(country).id,
                    "street": "Calle 1",
                    "city": city,
                    "lang": lang,
                    "collection_policy_id": policy.id,
                }
            )
        cls.customer_b.collection_policy_id = policy

    def _reminders(self, days_late):
        for partner in (*self.customers.values(), self.customer_b):
            self._invoice(partner, 1250.0, days_late=days_late)
        self.assertEqual(self.env.user.lang, "en_US", "the collector reads English; customers do not")
        self._run()

    def _email(self, partner):
        communication = self._communications(partner, channel="email")
        self.assertEqual(communication.state, "queued")
        return communication.mail_message_ids

    def _letter_html(self, partner):
        letter = self._communications(partner, channel="letter")
        self.assertEqual(letter.state, "queued", "the pre-legal level prints a letter")
        html, __ = self.env["ir.actions.report"]._render_qweb_html(
            "collections_management.action_report_collection_letter", letter.ids
        )
        return html.decode()

    def test_prelegal_notice_speaks_each_customers_spanish(self):
        self._reminders(days_late=61)
        expected = {
            # language: (subject and letter title, wording of the body, amount column)
            "es_MX": ("Aviso previo a cobranza judicial", "cobranza judicial", "Adeudo"),
            "es_CO": ("Aviso de cobro prejurídico", "cobro jurídico", "Monto adeudado"),
            "es_ES": ("Aviso previo a la vía judicial", "vía judicial", "Importe adeudado"),
        }
        for lang, (title, wording, amount_column) in expected.items():
            partner = self.customers[lang]
            with self.subTest(lang=lang):
                message = self._email(partner)
                self.assertEqual(self._communications(partner, channel="email").level_id.stage, "prelegal")
                self.assertIn(title, message.subject)
                self.assertIn("Estimado/a", message.body)
                self.assertIn(wording, message.body)
                self.assertIn(amount_column, message.body)
                letter = self._letter_html(partner)
                self.assertRegex(letter, rf"<h2>\s*{re.escape(title)}\s*</h2>", "the letter's title is translated")
                self.assertIn("Estimado/a", letter)
                self.assertIn("Total adeudado" if lang != "es_MX" else "Adeudo total", letter)
                sms = self.env["sms.sms"].search([("partner_id", "=", partner.id)])
                self.assertEqual(len(sms), 1)
                self.assertIn("factura(s) pendiente(s) de pago", sms.body)
                for text in (message.subject, message.body, letter, sms.body):
                    self.assertNotIn("prejudicial", text.lower())
                    self.assertNotIn("Pre-legal", text)
                    self.assertNotIn("Dear", text)
        # The regional wording stays in its region.
        self.assertNotIn("vía judicial", self._email(self.customers["es_MX"]).body)
        self.assertNotIn("cobranza judicial", self._email(self.customers["es_ES"]).body)
        # An English-speaking customer still gets English.
        english = self._email(self.customer_b)
        self.assertIn("Pre-legal notice", english.subject)
        self.assertIn("Dear", english.body)
        self.assertRegex(self._letter_html(self.customer_b), r"<h2>\s*Pre-legal notice\s*</h2>")

    def test_letters_of_several_languages_printed_together(self):
        """One print of the queue (as the collector does) gives each letter its own language."""
        self._reminders(days_late=61)
        letters = self.env["collection.communication"].search([("channel", "=", "letter")], order="id")
        self.assertEqual(len(letters), 4)
        html, __ = self.env["ir.actions.report"]._render_qweb_html(
            "collections_management.action_report_collection_letter", letters.ids
        )
        titles = re.findall(r"<h2>\s*(.*?)\s*</h2>", html.decode())
        self.assertEqual(
            sorted(titles),
            sorted(
                [
                    "Aviso previo a cobranza judicial",
                    "Aviso de cobro prejurídico",
                    "Aviso previo a la vía judicial",
                    "Pre-legal notice",
                ]
            ),
        )

    def test_first_reminder_uses_regional_vocabulary(self):
        self._reminders(days_late=8)
        expected = {
            "es_MX": ("Recordatorio: facturas vencidas", "Adeudo", "Importe"),
            "es_CO": ("Recordatorio: facturas vencidas", "Monto adeudado", "Importe"),
            "es_ES": ("Recordatorio: facturas vencidas", "Importe adeudado", "Monto"),
        }
        for lang, (subject, column, foreign) in expected.items():
            with self.subTest(lang=lang):
                message = self._email(self.customers[lang])
                self.assertIn(subject, message.subject)
                self.assertIn(column, message.body)
                self.assertNotIn(foreign, message.body)
        self.assertIn("ha realizado el pago", self._email(self.customers["es_ES"]).body)
        self.assertIn("realizó el pago", self._email(self.customers["es_MX"]).body)

    def test_level_names_follow_the_reader(self):
        """The back office shows the level in the user's language: Mexico's collector reads
        'parcialidades' and 'aclaración', Spain's 'cuotas' and 'reclamación'."""
        level = self.env.ref("collections_management.collection_level_prelegal")
        names = {lang: level.with_context(lang=lang).name for lang in self.LANGS}
        self.assertEqual(
            names,
            {
                "es_MX": "Aviso previo a cobranza judicial",
                "es_CO": "Aviso de cobro prejurídico",
                "es_ES": "Aviso previo a la vía judicial",
            },
        )
        dispute_field = self.env["ir.model.fields"]._get("collection.case", "dispute_count")
        self.assertEqual(dispute_field.with_context(lang="es_MX").field_description, "Número de aclaraciones")
        self.assertEqual(dispute_field.with_context(lang="es_ES").field_description, "Número de reclamaciones")
        self.assertEqual(dispute_field.with_context(lang="es_CO").field_description, "Número de reclamos")
