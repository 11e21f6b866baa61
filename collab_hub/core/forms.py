"""Form helpers shared by the apps."""

from django.core.validators import MaxLengthValidator


def limit_length(field, limit: int) -> None:
    """Give a built form field (from a model TextField, or Django's log-in name) a maximum length,
    enforced on the server. Setting `max_length` on a built field is not enough: Django adds the
    validator only when the field is made."""
    field.max_length = limit
    field.validators.append(MaxLengthValidator(limit))
    field.widget.attrs["maxlength"] = str(limit)
