{
    "name": "Collections: Customer Portal",
    "version": "19.0.1.0.0",
    "category": "Accounting/Accounting",
    "summary": "The customer's collections page: see what is overdue, pay several invoices at once, "
    "promise to pay or dispute, from a signed link in each reminder",
    "author": "Collections for Odoo contributors",
    "website": "https://github.com/collections-for-odoo/collections",
    "license": "LGPL-3",
    "depends": ["collections_management", "account_payment"],
    "data": [],
    "installable": True,
}
