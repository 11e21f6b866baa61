import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import Discipline, LifeDomain
from .models import Area, Service, Team

User = get_user_model()


class PeopleFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Name"), method="filter_name")
    discipline = django_filters.ChoiceFilter(
        label=_("Discipline"), field_name="profile__discipline", choices=Discipline.choices
    )
    team = django_filters.ModelChoiceFilter(
        label=_("Team"), field_name="memberships__team", queryset=Team.objects.order_by("name"), distinct=True
    )
    area = django_filters.ModelChoiceFilter(
        label=_("Area"), method="filter_area", queryset=Area.objects.order_by("kind", "name")
    )
    helps_with = django_filters.CharFilter(label=_("Can help with"), method="filter_helps_with")

    class Meta:
        model = User
        fields = ["q", "discipline", "team", "area", "helps_with"]

    def filter_name(self, queryset, name, value):
        for word in value.split():
            queryset = queryset.filter(
                Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(username__icontains=word)
            )
        return queryset

    def filter_area(self, queryset, name, value):
        areas = Q(memberships__team__areas=value) | Q(memberships__team__areas__parent=value)
        return queryset.filter(pk__in=User.objects.filter(areas).values("pk"))

    def filter_helps_with(self, queryset, name, value):
        return queryset.filter(
            Q(profile__helps_with__icontains=value) | Q(profile__introduction__icontains=value)
        )


class ServiceFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_text")
    life_domain = django_filters.ChoiceFilter(
        label=_("Life domain"), choices=LifeDomain.choices, method="filter_domain"
    )
    area = django_filters.ModelChoiceFilter(
        label=_("Area"), method="filter_area", queryset=Area.objects.order_by("kind", "name")
    )
    capacity = django_filters.ChoiceFilter(label=_("Capacity"), choices=Service.Capacity.choices)

    class Meta:
        model = Service
        fields = ["q", "life_domain", "area", "capacity"]

    def filter_text(self, queryset, name, value):
        for word in value.split():
            queryset = queryset.filter(
                Q(name__icontains=word)
                | Q(description__icontains=word)
                | Q(organisation__name__icontains=word)
                | Q(eligibility__icontains=word)
            )
        return queryset

    def filter_domain(self, queryset, name, value):
        return queryset.filter(life_domains__contains=[value])

    def filter_area(self, queryset, name, value):
        # A service for a whole district also serves each of its neighbourhoods, and vice versa.
        related = [value.pk] + ([value.parent_id] if value.parent_id else [])
        ids = Service.objects.filter(
            Q(areas__in=related) | Q(areas__parent=value) | Q(areas__parent__parent=value)
        ).values("pk")
        return queryset.filter(pk__in=ids)
