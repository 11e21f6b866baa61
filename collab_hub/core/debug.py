"""Error reports that never carry patient identifiers such as the BSN.

Django stops filtering error reports when DEBUG is on, and even then filters only the frames of the
decorated view. For a request that handles sensitive POST data (a view decorated with
`sensitive_post_parameters`) this filter is always active and blanks the variables of every frame,
so neither the debug page nor an error e-mail can show the value from deep inside the database code.
"""

from django.views.debug import SafeExceptionReporterFilter


def _handles_sensitive_data(request) -> bool:
    return bool(request is not None and getattr(request, "sensitive_post_parameters", None))


class PatientSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    def is_active(self, request):
        return _handles_sensitive_data(request) or super().is_active(request)

    def get_traceback_frame_variables(self, request, tb_frame):
        if _handles_sensitive_data(request):
            return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]
        return super().get_traceback_frame_variables(request, tb_frame)
