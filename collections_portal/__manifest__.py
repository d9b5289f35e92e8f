{
    "name": "Collections: Customer Portal",
    "version": "19.0.1.0.0",
    "category": "Accounting/Accounting",
    "summary": "The customer's collections page: see what is overdue, pay several invoices at once, "
    "promise to pay or dispute, from a signed link in each reminder",
    "author": "Collections for Odoo contributors",
    "website": "https://github.com/collections-for-odoo/collections",
    "license": "LGPL-3",
    "development_status": "Beta",
    "maintainers": ["collections-for-odoo"],
    "depends": ["collections_management", "account_payment"],
    "data": [
        "security/ir.model.access.csv",
        "security/collections_portal_security.xml",
        "data/ir_cron_data.xml",
        "report/collection_statement_report.xml",
        "views/collection_portal_link_views.xml",
        "views/collection_communication_views.xml",
        "views/collection_promise_views.xml",
        "views/collection_case_views.xml",
        "views/collection_policy_views.xml",
        "views/res_partner_views.xml",
        "views/res_config_settings_views.xml",
        "views/portal_templates.xml",
    ],
    "demo": [
        "demo/collections_portal_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "collections_portal/static/tests/tours/*.js",
        ],
    },
    "installable": True,
}
