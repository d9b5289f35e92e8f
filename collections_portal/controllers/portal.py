from werkzeug.exceptions import NotFound

from odoo import _, http
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.fields import Command
from odoo.http import content_disposition, request

from odoo.addons.account_payment.controllers.portal import PortalAccount

MAX_UPLOAD_READ = 10 * 1024 * 1024 + 1
MESSAGES = ("promise", "plan", "dispute")


class CollectionsPortal(PortalAccount):
    """The customer's collections page. Every route first finds the link from its token (or the
    logged-in user's own link), then calls the link's portal methods, which hold every rule."""

    # ------------------------------------------------------------------
    # Portal home: an entry with the number of overdue invoices
    # ------------------------------------------------------------------

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "collection_overdue_count" in counters:
            values["collection_overdue_count"] = request.env["collection.portal.link"]._portal_overdue_count(
                request.env.user
            )
        return values

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _collection_link(self, token):
        """The valid link of ``token`` (sudo), or an empty recordset. A visitor who did not choose
        a language sees the page in the language of the contact the link was given to."""
        link = request.env["collection.portal.link"]._get_by_token(token)
        if link and request.env.user._is_public() and not request.httprequest.cookies.get("frontend_lang"):
            lang = link.partner_id.lang or link.commercial_partner_id.lang
            if lang and request.env["res.lang"]._lang_get(lang):
                request.update_context(lang=lang)
                link = link.with_context(lang=lang)
        return link

    def _collection_invalid_link(self):
        return request.render("collections_portal.portal_collections_invalid_link", {}, status=404)

    def _collection_render_page(self, link, error=None, message=None, companies=None, status=200):
        summary = link._portal_summary()
        policy = link._portal_policy()
        values = {
            "page_name": "collections",
            "link": link,
            "summary": summary,
            "base_path": link._get_portal_path(),
            "error": error,
            "message": message if message in MESSAGES else None,
            "companies": companies or link.company_id,
            "reasons": request.env["collection.dispute.reason"]
            .sudo()
            .search([("company_id", "in", (False, link.company_id.id))]),
            "promise_max_date": link._portal_promise_max_date(policy),
            "plan_rows": range(max(policy.portal_plan_max_lines, 0) if policy else 0),
            "plan_max_date": link._portal_plan_max_date(policy),
            "no_breadcrumbs": request.env.user._is_public(),
        }
        return request.render("collections_portal.portal_collections_page", values, status=status)

    def _collection_payment_partner(self, link):
        """Who pays: the logged-in user when they belong to the customer, else the link's contact."""
        user = request.env.user
        if link._portal_is_customer_user(user):
            return user.partner_id
        return link.partner_id

    # ------------------------------------------------------------------
    # The page
    # ------------------------------------------------------------------

    @http.route("/my/collections", type="http", auth="user", website=True, sitemap=False)
    def portal_my_collections(self, company_id=None, message=None, **kw):
        link, companies = request.env["collection.portal.link"]._portal_get_user_link(request.env.user, company_id)
        return self._collection_render_page(link, message=message, companies=companies)

    @http.route("/collections/<string:token>", type="http", auth="public", website=True, sitemap=False)
    def collections_page(self, token, message=None, **kw):
        link = self._collection_link(token)
        if not link:
            return self._collection_invalid_link()
        link._portal_visit()
        return self._collection_render_page(link, message=message)

    @http.route("/collections/<string:token>/statement", type="http", auth="public", website=True, sitemap=False)
    def collections_statement(self, token, **kw):
        link = self._collection_link(token)
        if not link:
            return self._collection_invalid_link()
        content, content_type = link._portal_statement()
        filename = _("Statement of account - %s", link.commercial_partner_id.name)
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
        link = self._collection_link(token)
        if not link:
            return self._collection_invalid_link()
        invoice_ids = request.httprequest.args.getlist("invoice_ids")
        try:
            payment = link._portal_payment_values(invoice_ids, amount=amount or None, mode=mode)
        except (AccessError, MissingError):
            raise NotFound() from None
        except UserError as error:
            return self._collection_render_page(link, error=error.args[0], status=400)
        partner = self._collection_payment_partner(link)
        base_path = link._get_portal_path()
        payment_values = self._get_common_page_view_values(
            invoices_data={
                "partner": partner,
                "company": link.company_id,
                "total_amount": payment["amount"],
                "currency": payment["currency"],
                "amount_residual": payment["amount"],
                "landing_route": f"{base_path}/confirmation",
                "transaction_route": f"{base_path}/transaction/{payment['selection']}/{payment['mode']}",
            },
            access_token=payment["access_token"],
        )
        if not link._portal_is_customer_user(request.env.user):
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
                "link": link,
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
        amount and the mode must be exactly those signed by ``access_token``. Saved payment
        methods are for the customer's own users only (see ``_portal_check_transaction``)."""
        link = self._collection_link(token)
        if not link:
            raise ValidationError(_("This link is not valid any more."))
        self._validate_transaction_kwargs(kwargs)
        if kwargs.get("is_validation"):
            raise ValidationError(_("This page is for payments only."))
        try:
            payment = link._portal_check_transaction(
                selection,
                amount,
                access_token,
                mode=mode,
                user=request.env.user,
                flow=kwargs.get("flow"),
                tokenization_requested=kwargs.get("tokenization_requested"),
            )
        except (AccessError, MissingError) as error:
            raise ValidationError(
                _("The payment details were changed; please start again from your collections page.")
            ) from error
        kwargs["tokenization_requested"] = payment["tokenization_requested"]
        partner = self._collection_payment_partner(link)
        kwargs["landing_route"] = f"{link._get_portal_path()}/confirmation"
        transaction = self._create_transaction(
            amount=payment["amount"],
            currency_id=payment["currency"].id,
            partner_id=partner.id,
            custom_create_values={
                "invoice_ids": [Command.set(payment["invoices"].ids)],
                "collection_portal_link_id": link.id,
            },
            **kwargs,
        )
        transaction.landing_route = (
            f"{kwargs['landing_route']}?tx_id={transaction.id}&tx_token={link._portal_transaction_token(transaction)}"
        )
        return transaction._get_processing_values()

    @http.route("/collections/<string:token>/confirmation", type="http", auth="public", website=True, sitemap=False)
    def collections_confirmation(self, token, tx_id=None, tx_token=None, **kw):
        link = self._collection_link(token)
        if not link:
            return self._collection_invalid_link()
        transaction = link._portal_get_transaction(tx_id, tx_token)
        if not transaction:
            raise NotFound()
        return request.render(
            "collections_portal.portal_collections_confirmation",
            {
                "page_name": "collections_confirmation",
                "link": link,
                "base_path": link._get_portal_path(),
                "tx": transaction,
                "no_breadcrumbs": request.env.user._is_public(),
            },
        )

    # ------------------------------------------------------------------
    # Promise to pay, payment plan, dispute
    # ------------------------------------------------------------------

    def _collection_form_action(self, token, message, action):
        """Run ``action(link)`` for a form posted on the page: nothing is kept when it fails; the
        page shows why."""
        link = self._collection_link(token)
        if not link:
            return self._collection_invalid_link()
        try:
            with request.env.cr.savepoint():
                action(link)
        except (AccessError, MissingError):
            raise NotFound() from None
        except UserError as error:
            return self._collection_render_page(link, error=error.args[0], status=400)
        return request.redirect(f"{link._get_portal_path()}?message={message}")

    @http.route(
        "/collections/<string:token>/promise", type="http", auth="public", methods=["POST"], website=True, sitemap=False
    )
    def collections_promise(self, token, date=None, amount=None, note=None, **kw):
        return self._collection_form_action(
            token, "promise", lambda link: link._portal_create_promise(date, amount, note)
        )

    @http.route(
        "/collections/<string:token>/plan", type="http", auth="public", methods=["POST"], website=True, sitemap=False
    )
    def collections_plan(self, token, note=None, **kw):
        form = request.httprequest.form
        dates, amounts = form.getlist("plan_date"), form.getlist("plan_amount")
        return self._collection_form_action(token, "plan", lambda link: link._portal_request_plan(dates, amounts, note))

    @http.route(
        "/collections/<string:token>/dispute", type="http", auth="public", methods=["POST"], website=True, sitemap=False
    )
    def collections_dispute(self, token, invoice_id=None, reason_id=None, comment=None, **kw):
        upload = request.httprequest.files.get("attachment")
        attachment = None
        if upload and upload.filename:
            attachment = (upload.filename, upload.read(MAX_UPLOAD_READ), upload.mimetype)
        return self._collection_form_action(
            token,
            "dispute",
            lambda link: link._portal_create_dispute(invoice_id, reason_id, comment, attachment),
        )
