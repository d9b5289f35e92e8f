from . import (
    test_portal_acceptance,
    test_portal_forms,
    test_portal_link,
    test_portal_page,
    test_portal_paid,
    test_portal_payment,
    test_portal_review,
    test_portal_security,
    test_portal_tour,
    test_statement_translation,
)
