from django.urls import path

from . import measurement_views, views

app_name = "evaluations"

urlpatterns = [
    path("", views.project_list, name="projects"),
    path("<int:pk>/", views.project_dashboard, name="dashboard"),
    path("<int:pk>/meetings/", views.meeting_create, name="meeting_create"),
    path("<int:pk>/cycles/new/", views.cycle_create, name="cycle_create"),
    path("<int:pk>/cycles/<int:number>/", views.cycle_detail, name="cycle"),
    path("<int:pk>/cycles/<int:number>/plan/", views.cycle_plan, name="cycle_plan"),
    path("<int:pk>/cycles/<int:number>/do/", views.cycle_do, name="cycle_do"),
    path("<int:pk>/cycles/<int:number>/act/", views.cycle_act, name="cycle_act"),
    path("<int:pk>/cycles/<int:number>/advance/", views.cycle_advance, name="cycle_advance"),
    path("<int:pk>/actions/", views.action_create, name="action_create"),
    path("<int:pk>/actions/<int:item_id>/close/", views.action_close, name="action_close"),
    path("<int:pk>/exports/", views.exports, name="exports"),
    path("<int:pk>/exports/<int:export_id>/", views.export_status, name="export_status"),
    path("<int:pk>/exports/<int:export_id>/download/", views.export_download, name="export_download"),
    path("<int:pk>/rounds/", measurement_views.round_open, name="round_open"),
    path("<int:pk>/rounds/<int:round_id>/close/", measurement_views.round_close, name="round_close"),
    path("<int:pk>/effects/", measurement_views.effects, name="effects"),
    path("<int:pk>/effects/cases/", measurement_views.effect_case_add, name="effect_case_add"),
    path(
        "<int:pk>/effects/cases/<int:case_id>/activities/",
        measurement_views.case_activity_add,
        name="case_activity_add",
    ),
    path("<int:pk>/effects/export/", measurement_views.effects_csv, name="effects_csv"),
    path("questionnaires/", measurement_views.questionnaires, name="questionnaires"),
    path("questionnaires/<int:round_id>/", measurement_views.round_answer, name="round_answer"),
    path(
        "patients/<int:patient_pk>/outcomes/<slug:code>/",
        measurement_views.outcome_new,
        name="outcome_new",
    ),
]
