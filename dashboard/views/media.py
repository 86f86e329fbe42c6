"""A message's media file, served only to the agent whose message it is."""

import posixpath

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import redirect

from agents.access import agent_required
from dashboard import media

from ..rendering import describe


@agent_required
def message_media(request, message_id):
    message = request.agent_tables.Message.objects.filter(pk=message_id).exclude(media_url=None).first()
    if message is None:
        raise Http404("No such media.")
    name = media.storage_name(message.media_url)
    if name is None:
        address = media.web_address(message.media_url)
        if address is None:
            raise Http404("No such media.")
        return redirect(address)
    if not default_storage.exists(name):
        raise Http404("The file is gone.")
    mime_type = media.content_type(message, name)
    inline = media.shown_inline(mime_type)
    response = FileResponse(
        default_storage.open(name, "rb"),
        content_type=mime_type if inline else "application/octet-stream",
        as_attachment=not inline,
        filename=getattr(describe(message).media, "filename", None) or posixpath.basename(name),
    )
    response["Cache-Control"] = "private, max-age=86400"
    return response
