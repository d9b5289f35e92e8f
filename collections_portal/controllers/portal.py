from werkzeug.exceptions import NotFound

from odoo import _, http
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.fields import Command
from odoo.http import content_disposition, request

from odoo.addons.account_payment.controllers.portal import PortalAccount

from odoo.addons.collections_management.models.collection_payment_claim import PROOF_MAX_BYTES

from ..tools.portal_form import PortalForm

MAX_UPLOAD_READ = 10 * 1024 * 1024 + 1
MESSAGES = ("promise", "plan", "dispute", "paid")


class CollectionsPortal(PortalAccount):
    """The customer's collections page. Every route first finds the link from its token (or the
    logged-in user's own link): that lookup is the trust boundary and returns ``link_sudo``;
    then it parses the request (``tools/portal_form.py``) and calls one model method, which holds
    the rules and runs in the link's environment without elevating again."""

    # ------------------------------------------------------------------
    # Portal home: an entry with the number of overdue invoices
    # ------------------------------------------------------------------

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "collection_overdue_count" in counters:
            values["collection_overdue_count"] = request.env["collection.portal.link"]._get_overdue_count(
                request.env.user
            )
        return values

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _collection_link(self, token):
        """The valid link of ``token`` (sudo), or an empty recordset. A visitor who did not choose
        a language sees the page in the language of the contact the link was given to."""
        link_sudo = request.env["collection.portal.link"]._get_by_token(token)
        if link_sudo and request.env.user._is_public() and not request.httprequest.cookies.get("frontend_lang"):
            lang = link_sudo.partner_id.lang or link_sudo.commercial_partner_id.lang
            if lang and request.env["res.lang"]._lang_get(lang):
                request.update_context(lang=lang)
                link_sudo = link_sudo.with_context(lang=lang)
        return link_sudo

    def _collection_invalid_link(self):
        return request.render("collections_portal.portal_collections_invalid_link", {}, status=404)

    def _collection_render_page(self, link_sudo, error=None, message=None, companies=None, status=200):
        partner_sudo, company_sudo = link_sudo.commercial_partner_id, link_sudo.company_id
        summary = partner_sudo._collection_summary(company_sudo)
        values = {
            "page_name": "collections",
            "link": link_sudo,
            "summary": summary,
            "bank_transfer": partner_sudo._collection_bank_transfer(company_sudo, summary),
            "base_path": link_sudo._get_portal_path(),
            "error": error,
            "message": message if message in MESSAGES else None,
            "companies": companies or company_sudo,
            "reasons": link_sudo.env["collection.dispute"]._portal_reasons(company_sudo),
            **link_sudo.env["collection.promise"]._portal_form_limits(partner_sudo, company_sudo),
            "no_breadcrumbs": request.env.user._is_public(),
        }
        return request.render("collections_portal.portal_collections_page", values, status=status)

    def _collection_payment_partner(self, link_sudo):
        """Who pays: the logged-in user when they belong to the customer, else the link's contact."""
        user = request.env.user
        if link_sudo._is_customer_user(user):
            return user.partner_id
        return link_sudo.partner_id

    # ------------------------------------------------------------------
    # The page
    # ------------------------------------------------------------------

    @http.route("/my/collections", type="http", auth="user", website=True, sitemap=False)
    def portal_my_collections(self, company_id=None, message=None, **kw):
        company_id = PortalForm(request.env).parse_id(company_id)
        link_sudo, companies = request.env["collection.portal.link"]._get_for_user(request.env.user, company_id)
        return self._collection_render_page(link_sudo, message=message, companies=companies)

    @http.route("/collections/<string:token>", type="http", auth="public", website=True, sitemap=False)
    def collections_page(self, token, message=None, **kw):
        link_sudo = self._collection_link(token)
        if not link_sudo:
            return self._collection_invalid_link()
        link_sudo._touch()
        return self._collection_render_page(link_sudo, message=message)

    @http.route("/collections/<string:token>/statement", type="http", auth="public", website=True, sitemap=False)
    def collections_statement(self, token, **kw):
        link_sudo = self._collection_link(token)
        if not link_sudo:
            return self._collection_invalid_link()
        partner_sudo = link_sudo.commercial_partner_id
        content, content_type = partner_sudo._collection_render_statement(
            link_sudo.company_id, lang=link_sudo.partner_id.lang or partner_sudo.lang
        )
        filename = _("Statement of account - %s", partner_sudo.name)
        extension = "pdf" if content_type == "pdf" else "html"
        headers = [
            ("Content-Type", "application/pdf" if content_type == "pdf" else "text/html; charset=utf-8"),
            ("Content-Length", len(content)),
            ("Content-Disposition", content_disposition(f"{filename}.{extension}")),
        ]
        return request.make_response(content, headers=headers)

    # ------------------------------------------------------------------
    # Paying several invoices at once
    # ------------------------------------------------------------------

    @http.route("/collections/<string:token>/pay", type="http", auth="public", website=True, sitemap=False)
    def collections_pay(self, token, amount=None, mode=None, **kw):
        link_sudo = self._collection_link(token)
        if not link_sudo:
            return self._collection_invalid_link()
        form = PortalForm(request.env)
        try:
            invoice_ids = form.parse_ids(request.httprequest.args.getlist("invoice_ids"))
            amount = form.parse_amount(amount) if amount else None
            payment = link_sudo.env["payment.transaction"]._collection_payment_values(
                link_sudo, invoice_ids, amount=amount, mode=mode
            )
        except (AccessError, MissingError):
            raise NotFound() from None
        except UserError as error:
            return self._collection_render_page(link_sudo, error=error.args[0], status=400)
        partner = self._collection_payment_partner(link_sudo)
        base_path = link_sudo._get_portal_path()
        payment_values = self._get_common_page_view_values(
            invoices_data={
                "partner": partner,
                "company": link_sudo.company_id,
                "total_amount": payment["amount"],
                "currency": payment["currency"],
                "amount_residual": payment["amount"],
                "landing_route": f"{base_path}/confirmation",
                "transaction_route": f"{base_path}/transaction/{payment['selection']}/{payment['mode']}",
            },
            access_token=payment["access_token"],
        )
        if not link_sudo._is_customer_user(request.env.user):
            # Whoever holds the link does not see nor save payment tokens: only the customer's
            # own users do (the transaction route refuses the others too).
            payment_values["tokens_sudo"] = request.env["payment.token"].sudo()
            payment_values["show_tokenize_input_mapping"] = dict.fromkeys(
                payment_values["show_tokenize_input_mapping"], False
            )
        payment_values["partner_id"] = partner.id
        return request.render(
            "collections_portal.portal_collections_pay",
            {
                **payment_values,
                "page_name": "collections_pay",
                "link": link_sudo,
                "base_path": base_path,
                "payment": payment,
                "amount": payment["amount"],
                "no_breadcrumbs": request.env.user._is_public(),
            },
        )

    @http.route(
        [
            "/collections/<string:token>/transaction/<string:selection>",
            "/collections/<string:token>/transaction/<string:selection>/<string:mode>",
        ],
        type="jsonrpc",
        auth="public",
        sitemap=False,
    )
    def collections_transaction(self, token, selection, mode=None, access_token=None, amount=None, **kwargs):
        """Create the transaction of a payment prepared by ``collections_pay``: the invoices, the
        amount and the mode must be exactly those signed by ``access_token``, the provider one of
        the link's company (see ``payment.transaction._collection_check_payment``)."""
        link_sudo = self._collection_link(token)
        if not link_sudo:
            raise ValidationError(_("This link is not valid any more."))
        self._validate_transaction_kwargs(kwargs)
        if kwargs.get("is_validation"):
            raise ValidationError(_("This page is for payments only."))
        form = PortalForm(request.env)
        Transaction = link_sudo.env["payment.transaction"]
        try:
            payment = Transaction._collection_check_payment(
                link_sudo,
                form.parse_ids(selection),
                amount,
                access_token,
                form.parse_id(kwargs.get("provider_id")),
                mode=mode,
                user=request.env.user,
                flow=kwargs.get("flow"),
                tokenize=kwargs.get("tokenization_requested"),
            )
        except (AccessError, MissingError) as error:
            raise ValidationError(
                _("The payment details were changed; please start again from your collections page.")
            ) from error
        kwargs["tokenization_requested"] = payment["tokenization_requested"]
        partner = self._collection_payment_partner(link_sudo)
        kwargs["landing_route"] = f"{link_sudo._get_portal_path()}/confirmation"
        tx_sudo = self._create_transaction(
            amount=payment["amount"],
            currency_id=payment["currency"].id,
            partner_id=partner.id,
            custom_create_values={
                "invoice_ids": [Command.set(payment["invoices"].ids)],
                "collection_portal_link_id": link_sudo.id,
            },
            **kwargs,
        )
        tx_sudo.landing_route = (
            f"{kwargs['landing_route']}?tx_id={tx_sudo.id}&tx_token={tx_sudo._collection_transaction_token(link_sudo)}"
        )
        return tx_sudo._get_processing_values()

    @http.route("/collections/<string:token>/confirmation", type="http", auth="public", website=True, sitemap=False)
    def collections_confirmation(self, token, tx_id=None, tx_token=None, **kw):
        link_sudo = self._collection_link(token)
        if not link_sudo:
            return self._collection_invalid_link()
        tx_sudo = link_sudo.env["payment.transaction"]._collection_get_transaction(
            link_sudo, PortalForm(request.env).parse_id(tx_id), tx_token
        )
        if not tx_sudo:
            raise NotFound()
        return request.render(
            "collections_portal.portal_collections_confirmation",
            {
                "page_name": "collections_confirmation",
                "link": link_sudo,
                "base_path": link_sudo._get_portal_path(),
                "tx": tx_sudo,
                "no_breadcrumbs": request.env.user._is_public(),
            },
        )

    # ------------------------------------------------------------------
    # Promise to pay, payment plan, dispute
    # ------------------------------------------------------------------

    def _collection_form_action(self, token, message, action):
        """Run ``action(link_sudo, form)`` for a form posted on the page: nothing is kept when it
        fails; the page shows why."""
        link_sudo = self._collection_link(token)
        if not link_sudo:
            return self._collection_invalid_link()
        try:
            with request.env.cr.savepoint():
                action(link_sudo, PortalForm(request.env))
        except (AccessError, MissingError):
            raise NotFound() from None
        except UserError as error:
            return self._collection_render_page(link_sudo, error=error.args[0], status=400)
        return request.redirect(f"{link_sudo._get_portal_path()}?message={message}")

    @http.route(
        "/collections/<string:token>/promise", type="http", auth="public", methods=["POST"], website=True, sitemap=False
    )
    def collections_promise(self, token, date=None, amount=None, note=None, **kw):
        def action(link_sudo, form):
            date_value, amount_value = form.parse_date(date), form.parse_amount(amount)
            note_value = form.parse_text(note, _("The comment"), 1000)
            link_sudo.env["collection.promise"]._portal_create_promise(link_sudo, date_value, amount_value, note_value)

        return self._collection_form_action(token, "promise", action)

    @http.route(
        "/collections/<string:token>/plan", type="http", auth="public", methods=["POST"], website=True, sitemap=False
    )
    def collections_plan(self, token, note=None, **kw):
        posted = request.httprequest.form

        def action(link_sudo, form):
            note_value = form.parse_text(note, _("The comment"), 1000)
            plan = form.parse_plan(posted.getlist("plan_date"), posted.getlist("plan_amount"))
            link_sudo.env["collection.promise"]._portal_request_plan(link_sudo, plan, note_value)

        return self._collection_form_action(token, "plan", action)

    @http.route(
        "/collections/<string:token>/dispute", type="http", auth="public", methods=["POST"], website=True, sitemap=False
    )
    def collections_dispute(self, token, invoice_id=None, reason_id=None, comment=None, **kw):
        upload = request.httprequest.files.get("attachment")
        attachment = None
        if upload and upload.filename:
            attachment = (upload.filename, upload.read(MAX_UPLOAD_READ), upload.mimetype)

        def action(link_sudo, form):
            invoice = form.parse_one_id(invoice_id, _("Choose the invoice you dispute."))
            reason = form.parse_id(reason_id) if reason_id not in (None, "") else None
            if reason_id not in (None, "") and reason is None:
                raise UserError(_("Choose the reason of the dispute."))
            comment_value = form.parse_text(comment, _("The comment"), 2000, required=True)
            attachment_values = form.parse_attachment(attachment)
            link_sudo.env["collection.dispute"]._portal_create_dispute(
                link_sudo, invoice, reason, comment_value, attachment_values
            )

        return self._collection_form_action(token, "dispute", action)

    @http.route(
        "/collections/<string:token>/paid", type="http", auth="public", methods=["POST"], website=True, sitemap=False
    )
    def collections_paid(self, token, payment_date=None, reference=None, amount=None, **kw):
        """The "I already paid" form: the invoices, the date and reference of the payment, and its proof."""
        posted = request.httprequest.form
        upload = request.httprequest.files.get("proof")
        proof = None
        if upload and upload.filename:
            proof = (upload.filename, upload.read(PROOF_MAX_BYTES + 1), upload.mimetype)

        def action(link_sudo, form):
            invoice_ids = form.parse_ids(posted.getlist("invoice_ids"))
            vals = {
                "payment_date": form.parse_date(payment_date),
                "reference": form.parse_text(reference, _("The reference"), 200),
                "amount": form.parse_amount(amount) if amount not in (None, "") else None,
            }
            proof_values = form.parse_proof(proof)
            link_sudo.env["collection.payment.claim"]._portal_create_claim(link_sudo, invoice_ids, vals, [proof_values])

        return self._collection_form_action(token, "paid", action)
