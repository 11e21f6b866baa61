from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from collab_hub.core.http import local_url

from .models import Notification
from .services import notification_mark_read

User = get_user_model()


class PreferenceForm(forms.ModelForm):
    class Meta:
        model = User
        fields = [
            "email_new_work",
            "email_messages",
            "email_news",
            "email_mode",
            "email_project",
            "digest_hour",
            "language",
        ]
        widgets = dict.fromkeys(
            ("email_new_work", "email_messages", "email_news", "email_mode", "email_project"),
            forms.RadioSelect,
        )
        help_texts = {
            "email_new_work": gettext_lazy(
                "Referrals sent, forwarded or assigned to you, and joint consultations. An urgent referral "
                "is always e-mailed straight away, whatever you choose here."
            ),
            "email_messages": gettext_lazy("Messages from the others involved in a referral."),
            "email_news": gettext_lazy(
                "What happened to referrals you sent: accepted, declined, forwarded, feedback, closed."
            ),
            "email_mode": gettext_lazy("Steps that are overdue."),
            "email_project": gettext_lazy("Questionnaires and action items of improvement projects."),
        }

    def clean_digest_hour(self):
        hour = self.cleaned_data["digest_hour"]
        if not 0 <= hour <= 23:
            raise forms.ValidationError(_("Choose an hour from 0 to 23."))
        return hour


def notification_list(request):
    notifications = Notification.objects.filter(recipient=request.user).order_by("-created_at", "-pk")
    page = Paginator(notifications, 30).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page, "query": ""})


@require_POST
def notification_read(request, pk: int):
    """Mark one notification read and go to what it is about (someone else's notification: 404)."""
    target = get_object_or_404(Notification.objects.filter(recipient=request.user), pk=pk).link
    notification_mark_read(user=request.user, pk=pk)
    if local_url(request, target):
        return HttpResponseRedirect(target)
    return redirect("notifications:list")


@require_POST
def notification_read_all(request):
    count = notification_mark_read(user=request.user)
    messages.success(request, _("%(count)d notifications marked as read.") % {"count": count})
    return redirect("notifications:list")


def preferences(request):
    form = PreferenceForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your preferences are saved."))
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"form": form})
