"""AI analysis pages: create, follow, cancel and read analysis jobs. The jobs run in RQ
(detection's pipeline); these pages only go through detection.services."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import role_required
from detection.analysis import selectors
from detection.analysis.services import JobFinished, cancel_analysis_job, create_analysis_job
from detection.forms import AnalysisForm


@require_http_methods(["GET", "POST"])
@role_required
def job_list(request):
    if request.method == "POST":
        form = AnalysisForm(request.POST)
        if form.is_valid():
            try:
                job = create_analysis_job(requested_by=request.user, **form.cleaned_data)
            except ValidationError as e:
                for field, errors in e.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, f"Analysis #{job.pk} queued.")
                return redirect("analysis:detail", pk=job.pk)
        status = 400
    else:
        now = timezone.localtime().replace(microsecond=0)
        initial = {"start": now - timezone.timedelta(hours=1), "end": now}
        if request.GET.get("camera"):
            initial["camera"] = request.GET["camera"]
        form = AnalysisForm(initial=initial)
        status = 200
    return render(request, "analysis/list.html", {"form": form, "jobs": selectors.recent_jobs()}, status=status)


def _job_or_404(pk: int):
    job = selectors.job_by_id(pk)
    if job is None:
        raise Http404("No such analysis.")
    return job


@require_GET
@role_required
def job_detail(request, pk: int):
    job = _job_or_404(pk)
    return render(
        request,
        "analysis/detail.html",
        {
            "job": job,
            "status": selectors.job_status(job),
            "summary": selectors.job_summary(job),
            "counts": selectors.class_counts(job),
            "chart": selectors.activity_chart(job),
            "events": selectors.job_events_page(job, request.GET.get("page")),
            "video_url": selectors.media_url(job.annotated_video),
        },
    )


@require_GET
@role_required
def job_status(request, pk: int):
    return JsonResponse(selectors.job_status(_job_or_404(pk)))


@require_POST
@role_required
def job_cancel(request, pk: int):
    job = _job_or_404(pk)
    try:
        cancel_analysis_job(job)
    except JobFinished as e:
        messages.error(request, str(e))
    else:
        messages.success(request, f"Analysis #{job.pk} cancelled.")
    return redirect("analysis:detail", pk=job.pk)
