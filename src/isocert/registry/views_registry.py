"""CB staff pages for the registry: prepared IAF CertSearch exports (administrators and
reviewers) and bulk imports of existing certificates (administrators), with a progress bar
and the row-level error report."""

from django.contrib import messages
from django.http import HttpResponseNotAllowed, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header

from isocert.core.csvsafe import safe_writer
from isocert.core.errors import DomainError
from isocert.core.files import stored_file_response

from . import certsearch, permissions, row_checks, selectors, services
from .models import CertificateImport, RegistryExport

CRON_LINE = "0 3 1 * *  isocert prepare-certsearch-export"


def _exports_context(user) -> dict:
    exports = list(selectors.registry_exports(user=user)[:24])
    return {"exports": exports,
            "preparing": any(e.status in (RegistryExport.Status.QUEUED,
                                          RegistryExport.Status.RUNNING) for e in exports)}


def registry_home(request):
    context = {**_exports_context(request.user), "formats": RegistryExport.Format.choices,
               "cron_line": CRON_LINE, "can_import": permissions.can_import(request.user)}
    if context["can_import"]:
        context["imports"] = selectors.registry_imports(user=request.user)[:10]
    return render(request, "registry/registry_home.html", context)


def registry_exports_table(request):
    """The exports table htmx polls every 2 seconds while an export is being prepared."""
    return render(request, "registry/registry_exports_table.html",
                  _exports_context(request.user))


def registry_export_create(request):
    permissions.ensure_registry_exporter(request.user)  # before 405: others get 404 only
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        export = services.request_registry_export(fmt=request.POST.get("format", ""),
                                                     with_ict=request.POST.get("with_ict") == "1",
                                                     actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        ict = ", with the ICT column" if export.with_ict else ""
        messages.success(request, f"Export queued ({export.get_format_display()}{ict}): it is "
                                   "prepared in the background and listed below when ready.")
    return redirect("registry_home")


def registry_export_download(request, export_id):
    try:
        export = selectors.ready_export(user=request.user, pk=export_id)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("registry_home")
    return stored_file_response(export.file, selectors.export_file_name(export))


def registry_export_retry(request, export_id):
    """Queue a failed export again; back to the Registry page with what happened."""
    selectors.registry_export_get(user=request.user, pk=export_id)  # others: 404, not 405
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        export = services.retry_registry_export(export_id=export_id, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Export queued again ({export.get_format_display()}, "
                                  f"attempt {export.attempt}).")
    return redirect("registry_home")


def registry_imports(request):
    """The imports and the upload form; a POST starts an import."""
    imports = selectors.registry_imports(user=request.user)
    error = ""
    if request.method == "POST":
        try:
            certificate_import = services.start_import(upload=request.FILES.get("file"),
                                                          actor=request.user)
        except DomainError as exc:
            error = "; ".join(filter(None, [exc.message, *exc.fields.values()]))
        else:
            return redirect("registry_import_detail", import_id=certificate_import.pk)
    return render(request, "registry/registry_imports.html", {
        "imports": imports[:50], "error": error, "columns": certsearch.COLUMNS,
        "max_mb": services.import_max_bytes() // (1024 * 1024),
    }, status=422 if error else 200)


def _import_context(certificate_import: CertificateImport) -> dict:
    total = certificate_import.total_rows
    done = certificate_import.processed_rows
    return {
        "import": certificate_import,
        "percent": 100 if certificate_import.status == CertificateImport.Status.DONE
        else (min(100, done * 100 // total) if total else 0),
        "finished": certificate_import.status in (CertificateImport.Status.DONE,
                                                  CertificateImport.Status.FAILED),
        "writing": (certificate_import.status == CertificateImport.Status.RUNNING
                    and total and done >= total),
    }


def registry_import_detail(request, import_id):
    certificate_import = selectors.registry_import_get(user=request.user, pk=import_id)
    return render(request, "registry/registry_import_detail.html",
                  _import_context(certificate_import))


def registry_import_retry(request, import_id):
    """Queue a failed import again (the same file); on to its page, which shows progress."""
    selectors.registry_import_get(user=request.user, pk=import_id)  # others: 404, not 405
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        certificate_import = services.retry_registry_import(import_id=import_id,
                                                               actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Import queued again (attempt {certificate_import.attempt}).")
    return redirect("registry_import_detail", import_id=import_id)


def registry_import_progress(request, import_id):
    """The progress fragment htmx polls every second; when the import has finished, the
    page reloads to show the result."""
    certificate_import = selectors.registry_import_get(user=request.user, pk=import_id)
    context = _import_context(certificate_import)
    response = render(request, "registry/registry_import_progress.html", context)
    if context["finished"] and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


class _Echo:
    def write(self, value):
        return value


def registry_import_errors(request, import_id):
    """Every problem of a refused import as CSV (line, field, message); a message quoting
    a cell of the file is neutralised like every CSV the portal writes (``core.csvsafe``)."""
    certificate_import = selectors.registry_import_get(user=request.user, pk=import_id)
    writer = safe_writer(_Echo())

    def rows():
        yield writer.writerow(["line", "field", "message"])
        for problem in row_checks.all_problems(certificate_import):
            yield writer.writerow([problem["line"], problem["field"], problem["message"]])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        True, f"import-{certificate_import.pk}-errors.csv")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
