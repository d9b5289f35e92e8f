from odoo.tests import tagged

from .common import WhatsappCommon


@tagged("post_install", "-at_install")
class TestWhatsappPhone(WhatsappCommon):
    """Numbers are normalised to E.164 with the contact's country (else the customer's, else the
    company's); a number that cannot be a real one is refused before anything is sent."""

    def _number(self, phone, country_code, **values):
        country = self.env.ref(f"base.{country_code.lower()}") if country_code else False
        partner = self.env["res.partner"].create(
            {
                "name": f"Cliente {country_code}",
                "is_company": True,
                "phone": phone,
                "country_id": country.id if country else False,
                "whatsapp_optin": True,
                **values,
            }
        )
        return self._make_communication(partner)._whatsapp_recipient_number()[1]

    def test_national_numbers_of_several_countries(self):
        cases = [
            ("477 123 4567", "MX", "+524771234567"),
            ("(55) 5123-4567", "MX", "+525551234567"),
            ("300 123 4567", "CO", "+573001234567"),
            ("9 6123 4567", "CL", "+56961234567"),
            ("612 34 56 78", "ES", "+34612345678"),
            ("(415) 555-2671", "US", "+14155552671"),
            ("011 15-2345-6789", "AR", "+5491123456789"),
            ("351 15 234-5678", "AR", "+5493512345678"),
        ]
        for phone, country, expected in cases:
            with self.subTest(phone=phone, country=country):
                self.assertEqual(self._number(phone, country), expected)

    def test_international_numbers_ignore_the_country(self):
        self.assertEqual(self._number("+57 300 123 4567", "MX"), "+573001234567")
        self.assertEqual(self._number("0034 612 34 56 78", "MX"), "+34612345678")

    def test_company_country_when_the_customer_has_none(self):
        self.assertEqual(self._number("477 123 4567", False), "+524771234567")

    def test_contact_country_first(self):
        spain = self.env.ref("base.es")
        customer = self.env["res.partner"].create(
            {
                "name": "Grupo Norte",
                "is_company": True,
                "country_id": self.env.ref("base.mx").id,
                "whatsapp_optin": True,
            }
        )
        contact = self.env["res.partner"].create(
            {
                "name": "Lucía",
                "parent_id": customer.id,
                "type": "invoice",
                "phone": "612 34 56 78",
                "country_id": spain.id,
            }
        )
        communication = self._make_communication(customer, recipient_id=contact.id)
        self.assertEqual(communication._whatsapp_recipient_number()[1], "+34612345678")

    def test_invalid_numbers(self):
        for phone, country in [
            ("55 1234", "MX"),
            ("12", "CO"),
            ("+99 123456", "CL"),
            ("abc", "ES"),
            ("1234567890123456", "US"),
            ("15-1234", "AR"),
        ]:
            with self.subTest(phone=phone, country=country):
                self.assertFalse(self._number(phone, country))

    def test_invalid_number_fails_with_its_reason(self):
        partner = self.env["res.partner"].create(
            {
                "name": "Textiles Bogotá",
                "is_company": True,
                "phone": "12345",
                "country_id": self.env.ref("base.co").id,
                "whatsapp_optin": True,
            }
        )
        communication = self._make_communication(partner)
        communication._send_whatsapp()
        self.assertEqual(communication.state, "failed")
        self.assertEqual(communication.failure_reason, "The phone number 12345 is not a valid number in Colombia.")
        self.assertFalse(self.fake.requests)

    def test_number_sent_without_plus(self):
        partner = self.env["res.partner"].create(
            {
                "name": "Viña Los Robles",
                "is_company": True,
                "phone": "9 6123 4567",
                "country_id": self.env.ref("base.cl").id,
                "whatsapp_optin": True,
            }
        )
        communication = self._make_communication(partner)
        communication._send_whatsapp()
        self._send_queue()
        self.assertEqual(communication.state, "sent")
        self.assertEqual(self.fake.message_sends()[0]["body"]["to"], "56961234567")
