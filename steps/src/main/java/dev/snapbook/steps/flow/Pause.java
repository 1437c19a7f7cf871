package dev.snapbook.steps.flow;

import dev.snapbook.engine.spi.Outcome;
import dev.snapbook.engine.spi.Param;
import dev.snapbook.engine.spi.ParamType;
import dev.snapbook.engine.spi.Params;
import dev.snapbook.engine.spi.Planned;
import dev.snapbook.engine.spi.Step;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.Unknown;
import dev.snapbook.engine.spi.Verification;
import dev.snapbook.engine.spi.World;
import java.io.Console;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Step {@code pause}: waits {@code seconds}, or asks the operator on the terminal to confirm {@code prompt}
 * (answer {@code y}/{@code yes} to go on; anything else fails the step, so the run rolls back). Without a
 * terminal (a cron job, CI) a prompt fails unless {@code default} says what to answer.
 *
 * <p>Result: {@code {}} for a wait; {@code {confirmed: true, answered_by: "operator"|"default"}} for a
 * prompt (unknown in a plan). Nothing to undo.
 */
public final class Pause implements Step {

    /** Where a prompt is asked: the process's console, or another one in tests. */
    interface Terminal {
        /** Whether someone can be asked. */
        boolean available();

        /** Shows {@code question} and returns the line typed, or null at end of input. */
        String ask(String question);
    }

    private static final Terminal CONSOLE = new Terminal() {
        @Override
        public boolean available() {
            return System.console() != null;
        }

        @Override
        public String ask(String question) {
            Console console = System.console();
            return console == null ? null : console.readLine("%s [y/N] ", question);
        }
    };

    private static final Duration TICK = Duration.ofMillis(250);

    private final Terminal terminal;

    public Pause() {
        this(CONSOLE);
    }

    Pause(Terminal terminal) {
        this.terminal = terminal;
    }

    @Override
    public String name() {
        return "pause";
    }

    @Override
    public String summary() {
        return "Waits some seconds, or asks the operator to confirm a prompt (default: the answer without a terminal).";
    }

    @Override
    public List<Param> params() {
        return List.of(
                Param.optional("seconds", ParamType.DURATION, null, "how long to wait"),
                Param.optional("prompt", ParamType.STRING, null, "a question the operator must confirm"),
                Param.optional("default", ParamType.BOOLEAN, null,
                        "with prompt: the answer when there is no terminal (true goes on, false fails)"));
    }

    @Override
    public String preconditions() {
        return "Exactly one of seconds and prompt must be given, and default only with prompt. A prompt needs a"
                + " terminal to answer it, or default for unattended runs.";
    }

    @Override
    public String verifies() {
        return "Nothing: the wait or the operator's answer is the whole step.";
    }

    @Override
    public String undoes() {
        return "It only waits or asks; a prompt that is not confirmed fails the step, so the run rolls back.";
    }

    private static void check(Params params) throws StepFailure {
        boolean seconds = params.has("seconds");
        boolean prompt = params.has("prompt");
        if (seconds == prompt) {
            throw new StepFailure("pause needs exactly one of seconds and prompt" + (seconds ? ", not both" : ""),
                    "write pause: { seconds: 10 } or pause: { prompt: \"Continue?\" }");
        }
        if (seconds && params.has("default")) {
            throw new StepFailure("pause: default applies to a prompt, not to seconds", "remove default");
        }
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        check(params);
        if (params.has("seconds")) {
            return Planned.readOnly("wait " + params.duration("seconds").toMillis() / 1000.0 + "s", Map.of());
        }
        String prompt = params.string("prompt");
        if (!terminal.available() && !params.has("default")) {
            throw new StepFailure("pause asks \"" + prompt + "\" but there is no terminal to answer it",
                    "run snapbook on a terminal, or give default: true (or false) for unattended runs");
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("confirmed", true);
        result.put("answered_by", new Unknown("who answers \"" + prompt + "\" at run time"));
        return Planned.readOnly("ask \"" + prompt + "\" and stop the run unless confirmed"
                + (params.has("default") ? " (without a terminal: " + (params.bool("default") ? "yes" : "no") + ")" : ""),
                result);
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        check(params);
        if (params.has("seconds")) {
            Duration wait = params.duration("seconds");
            sleep(wait, context);
            return Outcome.unchanged("waited " + wait.toMillis() / 1000.0 + "s", Map.of());
        }
        String prompt = params.string("prompt");
        boolean yes;
        String by;
        if (terminal.available()) {
            String answer = terminal.ask(prompt);
            yes = answer != null && List.of("y", "yes").contains(answer.strip().toLowerCase(Locale.ROOT));
            by = "operator";
        } else if (params.has("default")) {
            yes = params.bool("default");
            by = "default";
        } else {
            throw new StepFailure("pause asks \"" + prompt + "\" but there is no terminal to answer it",
                    "run snapbook on a terminal, or give default: true (or false) for unattended runs");
        }
        if (!yes) {
            throw new StepFailure("not confirmed: \"" + prompt + "\" (answered by the " + by + ")",
                    by.equals("default") ? "default is false: unattended runs stop here" : null);
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("confirmed", true);
        result.put("answered_by", by);
        return Outcome.unchanged("confirmed by the " + by + ": " + prompt, result);
    }

    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) {
        return Verification.ok();
    }

    private static void sleep(Duration wait, StepContext context) throws StepFailure {
        Instant start = Instant.now();
        Instant end = start.plus(wait);
        if (context.deadline() != null && context.deadline().isBefore(end)) {
            throw new StepFailure("pause of " + wait.toSeconds() + "s would run past the step's deadline",
                    "shorten the pause or raise the run's time limit");
        }
        while (true) {
            Instant now = Instant.now();
            if (!now.isBefore(end)) {
                return;
            }
            context.progress("pausing", 100.0 * Duration.between(start, now).toMillis() / Math.max(1, wait.toMillis()));
            try {
                Thread.sleep(Math.min(TICK.toMillis(), Duration.between(now, end).toMillis() + 1));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StepFailure("interrupted during a pause", null, e);
            }
        }
    }
}
