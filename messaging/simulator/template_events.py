"""Control API for Meta's other template webhooks (cloud-api.md §4.5), on demand:

- ``POST /_sim/templates/{id}/quality {"score": "YELLOW"}`` → ``message_template_quality_update``;
- ``POST /_sim/templates/{id}/category {"category": "MARKETING"}`` →
  ``template_category_update`` (the template's category changes), or with
  ``{"correct_category": "MARKETING"}`` only, Meta's 24-hour heads-up (nothing changes yet).

Status changes have their own route (``/_sim/templates/{id}/status``, app.py).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from messaging.simulator import templates as template_rules

QUALITY_SCORES = frozenset({"GREEN", "YELLOW", "RED", "UNKNOWN"})


def _template(request: Request):  # type: ignore[no-untyped-def]
    sim = request.app.state.sim
    return sim, sim.state.templates.get(request.path_params["template_id"])


async def quality(request: Request) -> Response:
    sim, template = _template(request)
    if template is None:
        return JSONResponse({"error": "unknown template"}, status_code=404)
    score = str((await request.json()).get("score", "")).upper()
    if score not in QUALITY_SCORES:
        return JSONResponse({"error": f"score must be one of {sorted(QUALITY_SCORES)}"}, 400)
    previous, template.quality_score = template.quality_score, score
    sim._waba_event(
        template.waba_id,
        "message_template_quality_update",
        {
            "previous_quality_score": previous,
            "new_quality_score": score,
            "message_template_id": int(template.id),
            "message_template_name": template.name,
            "message_template_language": template.language,
        },
    )
    return JSONResponse(template.graph())


async def category(request: Request) -> Response:
    sim, template = _template(request)
    if template is None:
        return JSONResponse({"error": "unknown template"}, status_code=404)
    body = await request.json()
    new, heads_up = body.get("category"), body.get("correct_category")
    wanted = new or heads_up
    if wanted not in template_rules.CATEGORIES:
        return JSONResponse({"error": "category must be MARKETING, UTILITY or AUTHENTICATION"}, 400)
    value = {
        "message_template_id": int(template.id),
        "message_template_name": template.name,
        "message_template_language": template.language,
        "previous_category": template.category,
    }
    if new:
        value["new_category"] = new
        template.category = new
    else:
        value["correct_category"] = heads_up
    sim._waba_event(template.waba_id, "template_category_update", value)
    return JSONResponse(template.graph())


TEMPLATE_EVENT_ROUTES = [
    Route("/_sim/templates/{template_id}/quality", quality, methods=["POST"]),
    Route("/_sim/templates/{template_id}/category", category, methods=["POST"]),
]
