"""Admins sync a number's templates from the admin and read them there."""

from django.urls import reverse

from whatsapp.configuration import save_configuration


def test_an_admin_syncs_templates_and_reads_them(client, admin_user, make_user, fake_graph):
    synced, _ = save_configuration(
        user=make_user(),
        whatsapp_number="+15550100001",
        phone_number_id="1",
        business_account_id="2002",
        access_token="t",
    )
    unsyncable, _ = save_configuration(
        user=make_user(), whatsapp_number="+15550100002", phone_number_id="2", access_token="t"
    )
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:whatsapp_whatsappconfiguration_changelist"),
        {
            "action": "sync_message_templates",
            "_selected_action": [synced.pk, unsyncable.pk],
        },
        follow=True,
    )

    page = response.content.decode()
    assert "+15550100001: 4 templates synced." in page
    assert "+15550100002: This WhatsApp number has no business account id" in page
    listing = client.get(reverse("admin:whatsapp_messagetemplate_changelist")).content.decode()
    assert "order_update" in listing and "APPROVED" in listing
    template = synced.templates.first()
    assert client.get(reverse("admin:whatsapp_messagetemplate_add")).status_code == 403
    detail = client.get(reverse("admin:whatsapp_messagetemplate_change", args=[template.pk]))
    assert detail.status_code == 200 and "Save" not in detail.content.decode()
