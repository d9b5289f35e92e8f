import json
import re

from odoo import Command
from odoo.tests import JsonRpcException

from odoo.addons.collections_management.tests.common import CollectionsCommon
from odoo.addons.collections_portal.tools.portal_form import PortalForm


class CollectionsPortalCommon(CollectionsCommon):
    """Customer A (``customer``) with two overdue invoices and one not yet due, customer B with one
    overdue invoice, a valid link for each, and the demo payment provider in the company when
    ``payment_demo`` is installed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice_1 = cls._invoice(cls.customer, 1000.0, 20)
        cls.invoice_2 = cls._invoice(cls.customer, 500.0, 45)
        cls.invoice_future = cls._invoice(cls.customer, 300.0, -10)
        cls.invoice_b = cls._invoice(cls.customer_b, 700.0, 20)
        cls.link = cls.env["collection.portal.link"]._get_link(cls.customer, cls.company)
        cls.link_b = cls.env["collection.portal.link"]._get_link(cls.customer_b, cls.company)
        cls.path = f"/collections/{cls.link.token}"
        cls.path_b = f"/collections/{cls.link_b.token}"
        cls.provider = cls.env["payment.provider"]
        if cls.env["ir.module.module"]._get("payment_demo").state == "installed":
            cls.provider = (
                cls.env.ref("payment.payment_provider_demo")
                .sudo()
                .copy(
                    {
                        "name": "Demo (collections)",
                        "company_id": cls.company.id,
                    }
                )
            )
            cls.provider.write(
                {
                    "state": "test",
                    "is_published": True,
                    "payment_method_ids": [Command.set(cls.env.ref("payment_demo.payment_method_demo").ids)],
                    "journal_id": cls.company_data["default_journal_bank"].id,
                }
            )

    def _require_demo_provider(self):
        if not self.provider:
            self.fail("payment_demo is not installed: make test installs it (MODULES in the Makefile)")

    def _csrf(self, path=None):
        response = self.url_open(path or self.path)
        match = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
        self.assertTrue(match, "the page carries a CSRF token")
        return match.group(1)

    def _post(self, route, data, path=None, files=None):
        data = dict(data, csrf_token=self._csrf(path))
        return self.url_open(route, data=data, files=files, allow_redirects=False)

    def _portal_communications(self, partner=None):
        return self._communications(partner, channel="portal")

    def _payment_values(self, invoice_ids, amount=None, mode=None, link=None):
        """What the pay page of ``link`` computes for ``invoice_ids`` and the ``amount`` typed."""
        amount = PortalForm(self.env).parse_amount(amount) if amount is not None else None
        return self.env["payment.transaction"]._collection_payment_values(
            link or self.link, invoice_ids, amount=amount, mode=mode
        )

    def _jsonrpc(self, route, params):
        """``make_jsonrpc_request``, with the error's name and message in the exception raised."""
        response = self.url_open(
            route,
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}),
            headers={"Content-Type": "application/json"},
        )
        response.raise_for_status()
        decoded = response.json()
        if "error" in decoded:
            error = decoded["error"]["data"]
            raise JsonRpcException(code=decoded["error"]["code"], message=f"{error['name']}: {error['message']}")
        return decoded.get("result")
