"""A guided conversation as a list of steps: ask, validate, store the answer, move on, confirm, submit.

Each step is data (`Step`): its key, its kind (free text, a choice, photos, clauses), whether it may be
skipped, and whether it is asked only after a given option of an earlier step ("By phone" → the number).
Texts live in `flows.yaml` under `<flow>.steps.<key>`. The state is a plain dict:
`{"flow": name, "step": key, "answers": {...}, "picked": {step: option}, "editing": bool, ...}`.
"""

from __future__ import annotations

from dataclasses import dataclass

from intents.flows.base import Button, FlowContext, FlowInput, FlowOutcome, Prompt, yes_or_no

MAX_ANSWER_CHARS = 2000
MAX_PHOTOS = 10


@dataclass(frozen=True)
class Step:
    key: str
    kind: str = "text"  # text | choice | photos | clauses
    options: tuple[str, ...] = ()  # choice values, or quick answers for a text step
    optional: bool = False
    min_chars: int = 2
    # What the step asks for: description | place | time | people | contact | sections | choice | photos
    # (intents.classify.interrupts_step weighs a typed answer by it).
    expects: str = "description"
    # Asked only when the step named first was answered with one of the options after it: ("contact", "phone").
    asked_if: tuple[str, ...] = ()
    # A typed message that is none of a choice's options may be a new question: the caller may answer it and
    # ask the step again (FlowOutcome.question), rather than insist on a button.
    questions_welcome: bool = False


def action(step: str, value: str) -> str:
    """Button action for a flow step: `f:<step>:<value>` (short, so it fits Telegram's 64 bytes)."""
    return f"f:{step}:{value}"


class GuidedFlow:
    """Steps in order, then a summary to confirm or edit, then a submission for the caller to store."""

    name = ""
    steps: tuple[Step, ...] = ()

    # --- the public face -----------------------------------------------------------------------------

    def start(self, ctx: FlowContext) -> FlowOutcome:
        state = {"flow": self.name, "step": self.steps[0].key, "answers": {}, "editing": False}
        return FlowOutcome(state, [self.intro(ctx), *self.ask(state, ctx)] if self.has_intro(ctx) else self.ask(state, ctx))

    def has_intro(self, ctx: FlowContext) -> bool:
        return False

    def intro(self, ctx: FlowContext) -> Prompt:
        return Prompt(ctx.texts.get(f"{self.name}.intro"))

    def ask(self, state: dict, ctx: FlowContext) -> list[Prompt]:
        """The prompt for the current step (asked again after an interruption)."""
        key = state["step"]
        if key == "confirm":
            return [self.summary(state, ctx)]
        step = self.step(key)
        return [self.step_prompt(step, state, ctx)]

    def expects(self, state: dict) -> str:
        """What the current step asks for (see Step.expects); a summary or an edit waits for a choice."""
        try:
            step = self.step(state.get("step", ""))
        except KeyError:
            return "choice"
        if step.kind in ("choice", "photos", "clauses"):
            return {"choice": "choice", "photos": "photos", "clauses": "sections"}[step.kind]
        return step.expects

    def handle(self, state: dict, given: FlowInput, ctx: FlowContext) -> FlowOutcome:
        key = state.get("step", "")
        if given.action and not given.action.startswith(f"f:{key}:"):
            # A button from an earlier message: say so and ask the current step again.
            return FlowOutcome(state, [Prompt(ctx.texts.get("common.old_button")), *self.ask(state, ctx)])
        value = given.action.split(":", 2)[2] if given.action else ""
        if key == "confirm":
            return self.handle_confirm(state, value, given, ctx)
        step = self.step(key)
        return self.handle_step(step, state, value, given, ctx)

    # --- steps ---------------------------------------------------------------------------------------

    def step(self, key: str) -> Step:
        for step in self.steps:
            if step.key == key:
                return step
        raise KeyError(key)

    def step_prompt(self, step: Step, state: dict, ctx: FlowContext) -> Prompt:
        texts = ctx.texts
        base = f"{self.name}.steps.{step.key}"
        buttons: list[tuple[Button, ...]] = []
        if step.kind == "choice" or (step.kind == "text" and step.options):
            labels = [Button(texts.get(f"{base}.options.{o}"), action(step.key, o)) for o in step.options]
            buttons.extend(tuple(labels[i : i + 2]) for i in range(0, len(labels), 2))
        if step.kind == "photos":
            buttons.append((Button(texts.get("common.done"), action(step.key, "done")),))
        if step.optional and step.kind != "photos":
            buttons.append((Button(texts.get("common.skip"), action(step.key, "skip")),))
        buttons.append((Button(texts.get("common.cancel"), "cancel"),))
        return Prompt(texts.get(f"{base}.ask"), tuple(buttons))

    def handle_step(self, step: Step, state: dict, value: str, given: FlowInput, ctx: FlowContext) -> FlowOutcome:
        texts = ctx.texts
        base = f"{self.name}.steps.{step.key}"
        answers = state.setdefault("answers", {})
        if step.kind == "photos":
            return self.handle_photos(step, state, value, given, ctx)
        if given.photo:
            return FlowOutcome(state, [Prompt(texts.get("common.photo_not_now")), *self.ask(state, ctx)])
        if value == "skip" and step.optional:
            answers[step.key] = ""
            return self.advance(state, ctx)
        if step.kind == "choice":
            choice = value if value in step.options else self.match_option(step, given.text, ctx)
            if choice is None:
                asked = given.text.strip() if step.questions_welcome else ""
                return FlowOutcome(state, [Prompt(texts.get("common.choose")), self.step_prompt(step, state, ctx)], question=asked)
            answers[step.key] = choice
            return self.after_choice(step, choice, state, ctx)
        picked = value if value in step.options else self.typed_option(step, given.text, ctx)
        state.setdefault("picked", {}).pop(step.key, None)
        if picked:
            state["picked"][step.key] = picked
        text = texts.get(f"{base}.options.{value}") if value in step.options else given.text.strip()
        if len(text) < step.min_chars:
            if step.optional and text.lower() in ("skip", "-", ""):
                answers[step.key] = ""
                return self.advance(state, ctx)
            return FlowOutcome(state, [Prompt(texts.get("common.too_short")), self.step_prompt(step, state, ctx)])
        if len(text) > MAX_ANSWER_CHARS:
            return FlowOutcome(
                state, [Prompt(texts.get("common.too_long", limit=MAX_ANSWER_CHARS)), self.step_prompt(step, state, ctx)]
            )
        if step.optional and text.lower() == "skip":
            text = ""
        answers[step.key] = text
        return self.advance(state, ctx)

    def match_option(self, step: Step, text: str, ctx: FlowContext) -> str | None:
        """A typed answer to a choice: the option's value, its label, or yes/no for a yes/no question."""
        typed = text.strip().lower().rstrip(".!")
        if not typed:
            return None
        for option in step.options:
            label = ctx.texts.get(f"{self.name}.steps.{step.key}.options.{option}").lower()
            if typed == option.lower() or typed == label or (len(typed) > 3 and label.startswith(typed)):
                return option
        if set(step.options) >= {"yes", "no"}:
            answer = yes_or_no(typed)
            if answer is not None:
                return "yes" if answer else "no"
        if typed.isdigit() and 1 <= int(typed) <= len(step.options):
            return step.options[int(typed) - 1]
        return None

    def typed_option(self, step: Step, text: str, ctx: FlowContext) -> str | None:
        """A typed answer to a text step that is exactly one of its quick answers ("by phone", "phone")."""
        typed = text.strip().lower().rstrip(".!")
        for option in step.options:
            if typed in (option.lower(), ctx.texts.get(f"{self.name}.steps.{step.key}.options.{option}").lower()):
                return option
        return None

    def applies(self, step: Step, state: dict) -> bool:
        """Whether a step is asked, given the options picked so far (a step without `asked_if` always is)."""
        if not step.asked_if:
            return True
        source, *options = step.asked_if
        picked = state.get("picked", {}).get(source) or state.get("answers", {}).get(source)
        return picked in options

    def after_choice(self, step: Step, choice: str, state: dict, ctx: FlowContext) -> FlowOutcome:
        """Hook for choices with consequences (escalation, safeguarding); by default just go on."""
        return self.advance(state, ctx)

    def handle_photos(self, step: Step, state: dict, value: str, given: FlowInput, ctx: FlowContext) -> FlowOutcome:
        texts = ctx.texts
        photos = state["answers"].setdefault(step.key, [])
        if given.photo:
            if len(photos) >= MAX_PHOTOS:
                return FlowOutcome(state, [Prompt(texts.get("common.photos_full", limit=MAX_PHOTOS)), self.step_prompt(step, state, ctx)])
            if given.photo not in photos:
                photos.append(given.photo)
            prompt = self.step_prompt(step, state, ctx)
            return FlowOutcome(state, [Prompt(texts.get("common.photo_received", count=len(photos)), prompt.buttons)])
        word = given.text.strip().lower().rstrip(".!")
        if value == "done" or word in ("done", "skip", "none", "no", "finished", "that's all", "thats all", "next"):
            return self.advance(state, ctx)
        return FlowOutcome(state, [Prompt(texts.get("common.photos_hint")), self.step_prompt(step, state, ctx)])

    def next_step(self, state: dict) -> str:
        keys = [s.key for s in self.steps]
        for step in self.steps[keys.index(state["step"]) + 1 :]:
            if self.applies(step, state):
                return step.key
        return "confirm"

    def advance(self, state: dict, ctx: FlowContext, extra: list[Prompt] | None = None, **flags) -> FlowOutcome:
        following = self.next_step(state)
        if state.get("editing") and not self.follows_from(following, state["step"]):
            following = "confirm"  # an edit returns to the summary, unless it opened a step of its own ("By phone")
        state["step"] = following
        state["editing"] = following != "confirm" and bool(state.get("editing"))
        return FlowOutcome(state, [*(extra or []), *self.ask(state, ctx)], **flags)

    def follows_from(self, key: str, source: str) -> bool:
        """Whether step `key` is asked because of the answer to step `source`."""
        return key != "confirm" and self.step(key).asked_if[:1] == (source,)

    def answers_given(self, state: dict) -> dict:
        """The answers of the steps that apply (an answer left from an edited-away choice is dropped)."""
        applying = {s.key for s in self.steps if self.applies(s, state)}
        return {key: value for key, value in state["answers"].items() if key in applying}

    def submission(self, state: dict) -> dict:
        """The finished record for the caller to store."""
        return {"kind": self.name, **self.answers_given(state)}

    # --- confirm, edit, submit ----------------------------------------------------------------------

    def summary_lines(self, state: dict, ctx: FlowContext) -> list[str]:
        texts = ctx.texts
        lines = []
        for step in self.steps:
            if not self.in_summary(step, state):
                continue
            answer = state["answers"].get(step.key, "")
            if step.kind == "choice":
                shown = texts.get(f"{self.name}.steps.{step.key}.options.{answer}") if answer else "—"
            elif step.kind == "photos":
                shown = texts.get("common.photo_count", count=len(answer or []))
            elif step.kind == "clauses":
                shown = ", ".join(answer) if answer else texts.get("common.office_decides")
            else:
                shown = answer or "—"
            lines.append(f"• {texts.get(f'{self.name}.steps.{step.key}.short')}: {shown}")
        return lines

    def in_summary(self, step: Step, state: dict) -> bool:
        return self.applies(step, state)

    def summary(self, state: dict, ctx: FlowContext) -> Prompt:
        texts = ctx.texts
        body = "\n".join(self.summary_lines(state, ctx))
        text = texts.get(f"{self.name}.summary", summary=body)
        return Prompt(
            text,
            (
                (Button(texts.get("common.send"), action("confirm", "send")),),
                (Button(texts.get("common.edit"), action("confirm", "edit")), Button(texts.get("common.cancel"), "cancel")),
            ),
        )

    def editable_steps(self, state: dict) -> list[Step]:
        return [s for s in self.steps if self.applies(s, state)]

    def handle_confirm(self, state: dict, value: str, given: FlowInput, ctx: FlowContext) -> FlowOutcome:
        texts = ctx.texts
        typed = given.text.strip().lower().rstrip(".!")
        if value == "send" or typed in ("send", "yes", "confirm", "submit", "y"):
            return FlowOutcome(None, [], submission=self.submission(state))
        if value == "edit" or typed in ("edit", "change"):
            rows = [
                (Button(texts.get(f"{self.name}.steps.{s.key}.short"), action("confirm", "edit-" + s.key)),)
                for s in self.editable_steps(state)
            ]
            return FlowOutcome(state, [Prompt(texts.get("common.which_edit"), tuple(rows))])
        if value.startswith("edit-"):
            key = value[len("edit-") :]
            if key in {s.key for s in self.editable_steps(state)}:
                state["step"] = key
                state["editing"] = True
                return FlowOutcome(state, self.ask(state, ctx))
        return FlowOutcome(state, [Prompt(texts.get("common.confirm_hint")), self.summary(state, ctx)])
