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
import dev.snapbook.steps.exec.Command;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Step {@code exec}: runs a program as an argument vector through Commons Exec — never through a shell, so
 * {@code ;}, {@code $(...)} or {@code *} in an argument reach the program literally (DESIGN.md, safety
 * rule 4). Fails when the exit code is not {@code expect_exit} or the timeout passes (the program is then
 * killed).
 *
 * <p>Result: {@code {exit_code, stdout, stderr}}, unknown in a plan. Snapbook cannot know what a program
 * changed, so there is nothing it can undo: a playbook that needs compensation gives the step
 * {@code rollback:} steps, which the engine runs.
 */
public final class Exec implements Step {

    @Override
    public String name() {
        return "exec";
    }

    @Override
    public String summary() {
        return "Runs a program from an argument vector (no shell); fails unless it exits with expect_exit.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                Param.required("argv", ParamType.LIST, "the program and its arguments, one list item each"),
                Param.optional("timeout", ParamType.DURATION, Duration.ofSeconds(60),
                        "how long it may run before it is killed and the step fails"),
                Param.optional("expect_exit", ParamType.INTEGER, 0L, "the exit code that means success"));
    }

    @Override
    public String preconditions() {
        return "argv must be a non-empty list of single values (strings, numbers or booleans) whose first item, the"
                + " program, is not blank. Nothing about the program or what it does is checked.";
    }

    @Override
    public String verifies() {
        return "Nothing: what a program did is its own business. The step itself fails when the exit code is not"
                + " expect_exit or the timeout passes.";
    }

    @Override
    public String undoes() {
        return "Snapbook cannot know what the program changed, so it undoes nothing; give the step rollback: steps for"
                + " compensation, which the engine runs.";
    }

    /** The argument vector, checked: a non-empty list of strings (numbers and booleans are written out). */
    static List<String> argv(Params params) throws StepFailure {
        List<Object> given = params.list("argv");
        if (given.isEmpty()) {
            throw new StepFailure("exec needs a program: argv is empty", "write argv: [program, arg1, arg2]");
        }
        List<String> argv = new ArrayList<>();
        for (int i = 0; i < given.size(); i++) {
            Object o = given.get(i);
            if (o instanceof String || o instanceof Number || o instanceof Boolean) {
                argv.add(String.valueOf(o));
            } else {
                throw new StepFailure("argv[" + i + "] is " + ParamType.describe(o) + "; every argument must be a"
                        + " single string", "write each argument as its own list item");
            }
        }
        if (argv.get(0).isBlank()) {
            throw new StepFailure("argv[0], the program, is blank", "name the program to run");
        }
        return argv;
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        Command command = Command.of(argv(params));
        Map<String, Object> result = new LinkedHashMap<>();
        for (String key : List.of("exit_code", "stdout", "stderr")) {
            result.put(key, new Unknown(key + " of " + command));
        }
        return Planned.change(List.of("run " + command + " (argument vector, no shell), at most "
                + params.duration("timeout").toSeconds() + "s, expecting exit code " + params.integer("expect_exit")),
                result);
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        Command command = Command.of(argv(params));
        Duration timeout = params.duration("timeout");
        Command.Result r;
        try {
            r = command.run(timeout, context::trace);
        } catch (IOException e) {
            throw new StepFailure("cannot run " + command.argv().get(0) + ": " + e.getMessage(),
                    "check that the program is installed and on the PATH, or give its absolute path", e);
        }
        if (r.timedOut()) {
            throw new StepFailure(command + " did not finish within " + timeout.toSeconds() + "s and was killed",
                    "raise timeout if it needs longer");
        }
        long expected = params.integer("expect_exit");
        if (r.exitCode() != expected) {
            String err = r.stderr().strip();
            throw new StepFailure(command + " exited with " + r.exitCode() + ", not " + expected
                    + (err.isEmpty() ? "" : ": " + (err.length() > 500 ? err.substring(0, 500) + "..." : err)),
                    "set expect_exit if " + r.exitCode() + " means success for this program");
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("exit_code", (long) r.exitCode());
        result.put("stdout", r.stdout());
        result.put("stderr", r.stderr());
        return Outcome.changed(command + " exited with " + r.exitCode(), result);
    }

    /** What a program did is its own business: there is nothing snapbook can check again afterwards. */
    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) {
        return Verification.ok();
    }
}
