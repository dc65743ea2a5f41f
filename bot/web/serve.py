"""`policybot web`: the web chat alone, on WEB_HOST:WEB_PORT, in one uvicorn worker (the model is loaded once)."""

from __future__ import annotations


from bot.settings import check_web_settings


def address(settings) -> str:
    host = f"[{settings.web_host}]" if ":" in settings.web_host else settings.web_host
    return f"http://{host}:{settings.web_port}"


def run_web(settings, advisor_factory) -> int:
    """Check the settings (one line if wrong), load the advisor, print the address, serve until stopped."""
    from bot.serve import configure_logging, refused

    if refused("web", check_web_settings, settings):
        return 2
    import uvicorn

    from bot.web.app import build_app

    configure_logging(settings.log_level)
    app = build_app(settings, advisor_factory())
    print(f"The web chat is at {address(settings)}  (Ctrl+C stops it)", flush=True)
    uvicorn.run(app, host=settings.web_host, port=settings.web_port, workers=1, log_level=settings.log_level.lower(),
                proxy_headers=False, server_header=False)
    return 0
