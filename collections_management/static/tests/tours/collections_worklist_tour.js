import { registry } from "@web/core/registry";

/**
 * A collector opens her worklist from the Collections menu, starts calling, and logs three
 * outcomes in a row: no answer, a promise to pay, reached. After each one the next customer of
 * the worklist opens; after the last one the worklist is empty.
 */
function logContact(customer, outcome, extraSteps = []) {
    return [
        {
            content: `The worklist opens ${customer}`,
            trigger: `.o_form_view .o_field_widget[name='partner_id']:contains('${customer}')`,
        },
        {
            content: "Log a contact",
            trigger: ".o_form_view .o_form_statusbar button[name='action_log_contact']",
            run: "click",
        },
        {
            content: `Outcome: ${outcome}`,
            trigger: `.modal .o_field_widget[name='outcome'] input[data-value='${outcome}']`,
            run: "click",
        },
        ...extraSteps,
        {
            content: "Log it",
            trigger: ".modal footer button[name='action_log']",
            run: "click",
        },
        {
            content: "The dialog closes",
            trigger: "body:not(:has(.modal))",
        },
    ];
}

registry.category("web_tour.tours").add("collections_worklist_tour", {
    steps: () => [
        {
            content: "Open the apps menu",
            trigger: ".o_navbar_apps_menu button",
            run: "click",
        },
        {
            content: "Open Collections",
            trigger: ".o_app[data-menu-xmlid='collections_management.collections_menu_root']",
            run: "click",
        },
        {
            content: "Open the worklist",
            trigger: "[data-menu-xmlid='collections_management.collection_case_menu_worklist']",
            run: "click",
        },
        {
            content: "The most urgent customer comes first, with the reason to call",
            trigger:
                ".o_list_view .o_data_row:first-child:has(.o_data_cell[name='partner_id']:contains('Ferretería Hidalgo')):has(.o_data_cell[name='worklist_reason']:contains('Call task due'))",
        },
        {
            content: "Three customers to call",
            trigger: ".o_list_view tbody:has(.o_data_row:nth-child(3)):not(:has(.o_data_row:nth-child(4)))",
        },
        {
            content: "Start calling",
            trigger: ".o_list_view button[name='action_collection_worklist_start']",
            run: "click",
        },
        ...logContact("Ferretería Hidalgo", "no_answer"),
        ...logContact("Papelería Juárez", "promise", [
            {
                content: "Promised amount",
                trigger: ".modal .o_field_widget[name='promise_amount'] input",
                run: "edit 1000",
            },
            {
                content: "What was said",
                trigger: ".modal .o_field_widget[name='note'] textarea",
                run: "edit Pays on Friday by transfer",
            },
        ]),
        ...logContact("Dulcería Allende", "reached", [
            {
                content: "What was said",
                trigger: ".modal .o_field_widget[name='note'] textarea",
                run: "edit Invoice approved, payment next week",
            },
        ]),
        {
            content: "Nobody left to call",
            trigger: ".o_view_nocontent:contains('Nobody to call right now')",
        },
        {
            content: "Open the cases",
            trigger: ".o_menu_sections [data-menu-xmlid='collections_management.collection_case_menu']",
            run: "click",
        },
        {
            content: "All cases, on the kanban",
            trigger: "[data-menu-xmlid='collections_management.collection_case_menu_all']",
            run: "click",
        },
        {
            content: "The card shows the last contact and the next step",
            trigger:
                ".o_kanban_record:contains('Ferretería Hidalgo'):contains('Last contact:'):contains('Next:'):contains('Call again: no answer')",
        },
    ],
});
