"""The back office's language, kept on the account: the switcher (in the header, and on the login page)
sets Django's language cookie as before and, for a logged-in user, remembers the choice
(``LanguagePreference``); at login the account's language is applied to the browser, so it follows the user
to another browser. A choice made on the login page itself is the latest word: it is saved to the account
that logs in."""

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.utils import translation
from django.views import i18n

from access.models import LanguagePreference

CHOSEN_BEFORE_LOGIN = "language_chosen_before_login"  # session key; login keeps the session's data


def supported(language: str | None) -> str | None:
    """``language`` if it is one of settings.LANGUAGES (in its own spelling), else None."""
    codes = {code.lower(): code for code, _name in settings.LANGUAGES}
    return codes.get((language or "").lower())


@transaction.atomic
def remember_language(*, user, language: str) -> LanguagePreference | None:
    """Keep ``language`` as ``user``'s; a language the site does not offer is not kept (None)."""
    language = supported(language)
    if language is None:
        return None
    preference, _created = LanguagePreference.objects.update_or_create(user=user, defaults={"language": language})
    return preference


def language_of(user) -> str | None:
    """The language ``user`` chose, if they did (and the site still offers it)."""
    preference = LanguagePreference.objects.filter(user_id=user.pk).first()
    return supported(preference.language) if preference else None


def set_language(request):
    """Django's ``set_language`` (the cookie, the safe redirect), and the choice kept: on the account of a
    logged-in user, in the session of someone about to log in."""
    response = i18n.set_language(request)
    language = supported(request.POST.get(i18n.LANGUAGE_QUERY_PARAMETER)) if request.method == "POST" else None
    if language is not None:
        if request.user.is_authenticated:
            remember_language(user=request.user, language=language)
        else:
            request.session[CHOSEN_BEFORE_LOGIN] = language
    return response


def apply_at_login(request, response: HttpResponse) -> None:
    """Called once a login succeeded: a choice made on the login page goes to the account; otherwise the
    account's language, if it has one, becomes the browser's (the cookie) and this request's."""
    chosen = supported(request.session.pop(CHOSEN_BEFORE_LOGIN, None))
    if chosen is not None:
        remember_language(user=request.user, language=chosen)
        return
    language = language_of(request.user)
    if language is None:
        return
    translation.activate(language)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE,
                        path=settings.LANGUAGE_COOKIE_PATH, domain=settings.LANGUAGE_COOKIE_DOMAIN,
                        secure=settings.LANGUAGE_COOKIE_SECURE, httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                        samesite=settings.LANGUAGE_COOKIE_SAMESITE)
