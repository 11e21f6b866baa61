"""Vocabularies shared by the domain apps. `teams` is the lowest app, so they live here."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class LifeDomain(models.TextChoices):
    FINANCES = "finances", _("Finances")
    WORK = "work", _("Work")
    DAYTIME_ACTIVITY = "daytime_activity", _("Daytime activity")
    HOUSING = "housing", _("Housing")
    DOMESTIC_RELATIONS = "domestic_relations", _("Domestic relations")
    MENTAL_HEALTH = "mental_health", _("Mental health")
    PHYSICAL_HEALTH = "physical_health", _("Physical health")
    SUBSTANCE_USE = "substance_use", _("Substance use")
    ADL = "adl", _("Activities of daily living")
    SOCIAL_NETWORK = "social_network", _("Social network")
    PARTICIPATION = "participation", _("Participation")
    JUSTICE = "justice", _("Justice")


class Discipline(models.TextChoices):
    GP = "gp", _("GP")
    POH_GGZ = "poh_ggz", _("Practice nurse mental health (POH-GGZ)")
    PRACTICE_ASSISTANT = "practice_assistant", _("Practice assistant")
    SOCIAL_WORKER = "social_worker", _("Social worker")
    WELLBEING_COACH = "wellbeing_coach", _("Well-being coach")
    DEBT_ADVISER = "debt_adviser", _("Debt adviser")
    DISTRICT_NURSE = "district_nurse", _("District nurse")
    MUNICIPAL_OFFICER = "municipal_officer", _("Municipal officer")
    TEAM_COORDINATOR = "team_coordinator", _("Team coordinator")
    PROJECT_LEAD = "project_lead", _("Project lead")
    RESEARCHER = "researcher", _("Researcher")


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")
