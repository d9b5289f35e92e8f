import { registry } from "@web/core/registry";

/**
 * A customer opens the link of a reminder, chooses the two oldest overdue invoices and pays them
 * with the demo provider, then lands on the confirmation.
 */
registry.category("web_tour.tours").add("collections_portal_pay_tour", {
    steps: () => [
        {
            content: "The collections page shows what is overdue",
            trigger: "#o_collections_portal .o_collections_total .o_collections_overdue",
        },
        {
            content: "Choose the oldest invoice",
            trigger: ".o_collections_invoices tbody tr:nth-child(1) input[name='invoice_ids']",
            run: "click",
        },
        {
            content: "Choose the second invoice",
            trigger: ".o_collections_invoices tbody tr:nth-child(2) input[name='invoice_ids']",
            run: "click",
        },
        {
            content: "Pay the selected invoices",
            trigger: "#o_collections_pay_selected",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Both invoices are to be paid",
            trigger: ".o_collections_pay_invoices tbody:has(tr:nth-child(2)):not(:has(tr:nth-child(3)))",
        },
        {
            content: "Enter test card details",
            trigger: "input[name='customer_input']",
            run: "edit 4242424242424242",
        },
        {
            content: "Pay",
            trigger: "button[name='o_payment_submit_button']",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The payment is being processed, then the customer is sent back",
            trigger: "[name='o_payment_status']",
            expectUnloadPage: true,
        },
        {
            content: "The payment is confirmed",
            trigger: "#o_collections_paid",
        },
    ],
});
