"""The API's token authentication, which writes the user it finds into the request's history rows. Its
own module: DRF imports it from the settings while other modules import DRF."""

from rest_framework.authentication import TokenAuthentication

from aftersales import history_context


class RecordedTokenAuthentication(TokenAuthentication):
    """Token auth, and the user it finds is written into the request's history rows: Django's middleware
    cannot know a token's user (aftersales.middleware.HistoryContextMiddleware)."""

    def authenticate(self, request):
        found = super().authenticate(request)
        if found is not None:
            history_context.add(user=found[0].pk, username=found[0].get_username())
        return found
