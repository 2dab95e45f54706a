from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from django.views import defaults
from django.views.defaults import page_not_found
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from access import languages, pages
from access.api import TokenView
from aftersales import health, metrics
from aftersales.api import error_body
from events import api as events
from orders import api as orders
from refunds import api as refunds
from tickets.api import claim_form
from tickets.api import views as tickets
from warehouse import api as warehouse


def not_found(request, exception=None):
    """Under /api/, an unknown path is a 404 in the API's one error shape, not an HTML page."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", "No such resource."), status=404)
    return page_not_found(request, exception)


def bad_request(request, exception=None):
    """Django refused the request before any view (a body over the size limit, a bad host): JSON under /api/."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("bad_request", "The request could not be read."), status=400)
    return defaults.bad_request(request, exception)


def forbidden(request, exception=None):
    """A page the user may not see: under /api/ the one error shape; elsewhere the back office's refusal page,
    in its look and the reader's language (access.pages), never Django's bare "403 Forbidden"."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_allowed", "You do not have permission to perform this action."),
                            status=403)
    return pages.forbidden(request, exception)


def server_error(request):
    """The last resort: under /api/ the one error shape with the request id to quote, never a traceback."""
    if request.path.startswith("/api/"):
        request_id = getattr(request, "request_id", "")
        body = error_body("server_error", f"Something went wrong on our side. Quote request id {request_id}.")
        return JsonResponse({**body, "request_id": request_id}, status=500)
    return defaults.server_error(request)


handler400 = bad_request
handler403 = forbidden
handler404 = not_found
handler500 = server_error


api = [
    path("auth/token/", TokenView.as_view(), name="token"),
    path("orders/", orders.OrderListView.as_view(), name="orders"),
    path("orders/import/", orders.OrderImportView.as_view(), name="orders-import"),
    path("orders/<str:order_no>/", orders.OrderDetailView.as_view(), name="order"),
    path("orders/<str:order_no>/eligibility/", claim_form.EligibilityView.as_view(), name="order-eligibility"),
    path("reasons/", claim_form.ReasonListView.as_view(), name="reasons"),
    path("uploads/", tickets.UploadView.as_view(), name="uploads"),
    path("uploads/<int:upload_id>/file/", tickets.UploadFileView.as_view(), name="upload-file"),
    path("tickets/", tickets.TicketListCreateView.as_view(), name="tickets"),
    path("tickets/<str:ticket_no>/", tickets.TicketDetailView.as_view(), name="ticket"),
    path("tickets/<str:ticket_no>/cancel/", tickets.CancelView.as_view(), name="ticket-cancel"),
    path("tickets/<str:ticket_no>/return-shipment/", tickets.ReturnShipmentView.as_view(), name="ticket-return"),
    path("tickets/<str:ticket_no>/confirm-receipt/", tickets.ConfirmReceiptView.as_view(), name="ticket-confirm"),
    path("staff/tickets/", tickets.StaffTicketListView.as_view(), name="staff-tickets"),
    path("staff/tickets/<str:ticket_no>/", tickets.StaffTicketDetailView.as_view(), name="staff-ticket"),
    path("staff/tickets/<str:ticket_no>/approve/", tickets.ApproveView.as_view(), name="staff-approve"),
    path("staff/tickets/<str:ticket_no>/reject/", tickets.RejectView.as_view(), name="staff-reject"),
    path("staff/tickets/<str:ticket_no>/compensate/", tickets.CompensateView.as_view(), name="staff-compensate"),
    path("staff/tickets/<str:ticket_no>/reship/", tickets.ReshipView.as_view(), name="staff-reship"),
    path("staff/tickets/<str:ticket_no>/notes/", tickets.NotesView.as_view(), name="staff-notes"),
    path("finance/refunds/", refunds.FinanceRefundListView.as_view(), name="finance-refunds"),
    path("finance/tickets/<str:ticket_no>/approve/", refunds.FinanceApproveView.as_view(), name="finance-approve"),
    path("finance/tickets/<str:ticket_no>/reject/", refunds.FinanceRejectView.as_view(), name="finance-reject"),
    path("warehouse/inbound/", warehouse.InboundView.as_view(), name="warehouse-inbound"),
    path("warehouse/outbound/", warehouse.OutboundView.as_view(), name="warehouse-outbound"),
    path("events/", events.EventFeedView.as_view(), name="events"),
    path("meta/states/", events.StateGraphView.as_view(), name="meta-states"),
    path("ping/", tickets.PingView.as_view(), name="ping"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    # set_language: the language switcher (header and login page); it also keeps the choice on the account.
    path("i18n/setlang/", languages.set_language, name="set_language"),
    path("api/v1/", include(api)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI's start script is a file of its own (?script): no inline script under the CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    path("health/", health.live),  # kept for older health checks
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("metrics", metrics.metrics_view, name="metrics"),  # Prometheus, for the bearer of METRICS_TOKEN
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
