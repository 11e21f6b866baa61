from django.urls import path

from . import views

app_name = "evaluations"

urlpatterns = [
    path("", views.project_list, name="projects"),
    path("<int:pk>/", views.project_dashboard, name="dashboard"),
    path("<int:pk>/meetings/", views.meeting_create, name="meeting_create"),
]
