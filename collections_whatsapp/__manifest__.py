{
    "name": "Collections: WhatsApp",
    "version": "19.0.1.0.0",
    "category": "Accounting/Accounting",
    "summary": "Send collection reminders through the WhatsApp Business Cloud API, track delivery and replies",
    "author": "Collections for Odoo contributors",
    "website": "https://github.com/collections-for-odoo/collections",
    "license": "LGPL-3",
    "depends": ["collections_management"],
    "external_dependencies": {"python": ["requests", "phonenumbers"]},
    "data": [],
    "installable": True,
}
