import { registry } from "@web/core/registry";

/**
 * A collector opens the case of a customer who sent a photo of a transfer receipt on WhatsApp,
 * finds it in the case's chatter and opens it.
 */
registry.category("web_tour.tours").add("collections_whatsapp_open_proof_tour", {
    steps: () => [
        {
            content: "The note says a file came on WhatsApp",
            trigger: ".o-mail-Chatter .o-mail-Message:contains('File sent on WhatsApp')",
        },
        {
            content: "Open the proof of payment from the case's chatter",
            trigger: ".o-mail-Chatter .o-mail-AttachmentContainer[data-mimetype='image/png']",
            run: "click",
        },
        {
            content: "The proof opens in the viewer",
            trigger: ".o-FileViewer .o-FileViewer-main img",
        },
    ],
});
