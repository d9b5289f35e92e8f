"""Parsing and checking what a customer posts on the collections page.

Plain Python, no ORM: every function takes the raw value of a request and returns a clean Python
value or raises a translated ``UserError``. The rules of promises, plans and disputes (horizon,
amounts, one pending promise...) are not checked here: they belong to ``collection.promise`` and
``collection.dispute``, which apply them to the back office too.
"""

import re

from markupsafe import Markup

from odoo import _, fields
from odoo.exceptions import UserError
from odoo.tools.mimetypes import guess_mimetype

from odoo.addons.collections_management.models.collection_payment_claim import PROOF_MAX_BYTES

ID_PATTERN = re.compile(r"[0-9]{1,10}")
MAX_ID = 2**31 - 1
MAX_IDS = 500
MAX_PLAN_ROWS = 50
MAX_ATTACHMENT_SIZE = 10 * 1024 * 1024
ALLOWED_MIMETYPES = {
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "text/plain",
}


def text_to_html(text):
    """HTML showing ``text`` (what a customer typed) as text: every character escaped, line
    breaks kept, and no link made of a URL it contains (unlike ``plaintext2html``)."""
    return Markup("<p>%s</p>") % Markup("<br/>").join((text or "").splitlines())


class PortalForm:
    """The parser of one request: ``env`` only gives the language of the error messages."""

    def __init__(self, env):
        self.env = env

    def parse_id(self, value):
        """A record id (an int, or a string of decimal digits), or None when it is anything else:
        ids are positive and below 2**31 (PostgreSQL's integer), so no value from outside ever
        reaches a query unchecked."""
        if isinstance(value, bool):
            return None
        if isinstance(value, str):
            value = value.strip()
            if not ID_PATTERN.fullmatch(value):
                return None
            value = int(value)
        if not isinstance(value, int) or value <= 0 or value > MAX_ID:
            return None
        return value

    def parse_ids(self, values):
        """Ids from a form value (a list, or a string of comma-separated ids), without duplicates."""
        if isinstance(values, str):
            values = [value for value in values.split(",") if value.strip()]
        if not isinstance(values, list | tuple) or len(values) > MAX_IDS:
            raise UserError(_("The selection of invoices is not valid."))
        ids = []
        for value in values:
            number = self.parse_id(value)
            if number is None:
                raise UserError(_("The selection of invoices is not valid."))
            ids.append(number)
        return list(dict.fromkeys(ids))

    def parse_one_id(self, value, message):
        """Exactly one id, else ``message``."""
        ids = self.parse_ids([value] if value not in (None, "") else [])
        if len(ids) != 1:
            raise UserError(message)
        return ids[0]

    def parse_amount(self, value):
        if isinstance(value, bool):
            raise UserError(_("The amount is not valid."))
        if isinstance(value, str):
            value = value.strip().replace(",", "")
            if len(value) > 20:
                raise UserError(_("The amount is not valid."))
        try:
            amount = float(value)
        except (TypeError, ValueError) as error:
            raise UserError(_("The amount is not valid.")) from error
        if amount != amount or amount in (float("inf"), float("-inf")) or amount <= 0:
            raise UserError(_("The amount must be a positive number."))
        return amount

    def parse_date(self, value):
        if not isinstance(value, str) or len(value) > 10:
            raise UserError(_("The date is not valid."))
        try:
            return fields.Date.to_date(value.strip())
        except ValueError as error:
            raise UserError(_("The date is not valid.")) from error

    def parse_text(self, value, label, max_length, required=False):
        value = (value or "").strip() if isinstance(value, str | type(None)) else None
        if value is None:
            raise UserError(_("%s is not valid.", label))
        if required and not value:
            raise UserError(_("Please fill in %s.", label))
        if len(value) > max_length:
            raise UserError(_("%(label)s is too long (%(max)s characters at most).", label=label, max=max_length))
        return value

    def parse_plan(self, dates, amounts):
        """[(date, amount)] of the rows of a payment plan form, blank rows left out. At least two
        payments, on dates that follow each other."""
        if not isinstance(dates, list | tuple) or not isinstance(amounts, list | tuple) or len(dates) != len(amounts):
            raise UserError(_("The payment plan is not valid."))
        if len(dates) > MAX_PLAN_ROWS:
            raise UserError(_("The payment plan is not valid."))
        plan = []
        for date, amount in zip(dates, amounts):
            if not isinstance(date, str) or not isinstance(amount, str):
                raise UserError(_("The payment plan is not valid."))
            if not date.strip() and not amount.strip():
                continue
            plan.append((self.parse_date(date), self.parse_amount(amount)))
        if len(plan) < 2:
            raise UserError(_("A payment plan has at least two payments."))
        plan_dates = [date for date, __ in plan]
        if plan_dates != sorted(set(plan_dates)):
            raise UserError(_("The dates of a payment plan must follow each other, one payment per date."))
        return plan

    def parse_attachment(self, attachment):
        """ir.attachment values (name, raw, mimetype) of an uploaded file given as
        (filename, content bytes, mimetype), after checking its size and its real type."""
        if not attachment:
            return {}
        filename, content, __ = attachment
        if not content:
            return {}
        if len(content) > MAX_ATTACHMENT_SIZE:
            raise UserError(_("The file is too large (%s MB at most).", MAX_ATTACHMENT_SIZE // (1024 * 1024)))
        filename = (filename or "").strip().replace("/", "_").replace("\\", "_")[:200] or "document"
        guessed = guess_mimetype(content, default="application/octet-stream")
        if guessed not in ALLOWED_MIMETYPES:
            raise UserError(_("Attach a PDF, an image or a text file."))
        return {"name": filename, "raw": content, "mimetype": guessed}

    def parse_proof(self, upload):
        """The proof of payment of an "I already paid" form, given as (filename, content bytes read
        up to one byte past the limit, mimetype): ``{"name", "raw"}``. Its size and real type
        (PDF or image, read from the content) are checked by ``collection.payment.claim``, for
        WhatsApp and the back office alike; here only a missing or oversized file is refused."""
        if not upload or not upload[1]:
            raise UserError(_("Attach the proof of payment (a PDF or a photo)."))
        filename, content, __ = upload
        if len(content) > PROOF_MAX_BYTES:
            raise UserError(_("The proof of payment is too large (%s MB at most).", PROOF_MAX_BYTES // (1024 * 1024)))
        return {"name": (filename or "").strip()[:200], "raw": content}
