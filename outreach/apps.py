from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "outreach"
    verbose_name = "Outreach"

    def ready(self):
        # Here, not at the top: models and what imports them load only once the app registry is ready.
        from agents.signals import customer_erased
        from whatsapp import hooks

        from . import autoreplies, carts, consent, tasks

        hooks.register_inbound_handler(consent.MESSAGE_TYPES, consent.act_on_stored_message)
        hooks.register_inbound_handler(autoreplies.MESSAGE_TYPES, autoreplies.act_on_stored_message)
        hooks.register_inbound_handler(carts.MESSAGE_TYPES, carts.act_on_stored_message)
        hooks.register_template_guard(consent.refuse_marketing_to_opted_out)
        hooks.register_change_handler("user_preferences", consent.apply_meta_preferences)
        hooks.register_status_handler(consent.opt_out_on_refusal)
        hooks.register_periodic_work("broadcasts_started", tasks.start_and_resume_broadcasts)
        customer_erased.connect(consent.forget_customer, dispatch_uid="outreach_forget_customer")
