package dev.snapbook.engine.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Generators of hostile input for the loaders and the expression language: text shaped like a playbook or
 * an expression, with the things that once broke them (anchors and aliases, recursive ones included; tags;
 * deep nesting; numbers at and beyond 64 bits; braces inside strings), then mutated at random. Every
 * generator is a pure function of its {@link Random}, so a seed reproduces its input exactly.
 */
public final class GeneratedInput {

    private GeneratedInput() {
    }

    // ------------------------------------------------------------------ shared palettes

    private static final String[] STEP_TYPES = {"test.set", "test.read", "test.fail", "test.badverify",
            "test.irreversible", "test.random"};
    private static final String[] BAD_STEP_TYPES = {"test.sett", "no.such", "domain.state", "<<", "test"};
    private static final String[] PARAMS = {"counter", "value", "domain", "message", "in_plan"};
    /** The parameters each test step takes, so that most generated steps get past the validator's first checks. */
    private static final java.util.Map<String, String[]> PARAMS_OF = java.util.Map.of(
            "test.set", new String[] {"counter", "value", "domain"}, "test.read", new String[] {"counter"},
            "test.fail", new String[] {"message", "in_plan"}, "test.badverify", new String[] {"counter"},
            "test.irreversible", new String[] {"counter"}, "test.random", new String[] {"value"});
    private static final String[] BAD_PARAMS = {"countr", "name", "x", "<<", "1"};
    private static final String[] CONTROLS = {"name", "when", "register", "verify", "rollback", "retries", "until",
            "delay", "timeout", "tags"};
    private static final String[] BAD_CONTROLS = {"regsiter", "retry", "vars", "steps", "on_failure"};
    private static final String[] TAGS = {"!!bool", "!!int", "!!float", "!!str", "!!null", "!!binary", "!!set",
            "!!omap", "!!pairs", "!!timestamp", "!!map", "!!seq", "!custom", "!!python/object:os.system",
            "!!javax.script.ScriptEngineManager", "!<tag:yaml.org,2002:int>"};
    private static final String[] WORDS = {"true", "false", "yes", "no", "on", "off", "maybe", "null", "~", "y",
            "0", "-1", "42", "9007199254740993", "9223372036854775807", "9223372036854775808",
            "-9223372036854775809", "0x1F", "0o17", "1_000", "190:20:30", "1.5", "1.0e+999", ".inf", ".nan",
            "-.inf", "2001-12-14", "5000", "1000", "1001", "60s", "250ms", "soon", "web01", "a b", "",
            "\u0661\u0662", "é", "{{", "}}", "{{ x }}", "{{ 'a}}b' }}", "&x", "*x", "<<", "- a", ": b", "#c"};

    private static String pick(Random r, String[] from) {
        return from[r.nextInt(from.length)];
    }

    /** Mostly one of {@code good}; one time in ten one of {@code bad}, so that most inputs get past the first check. */
    private static String pick(Random r, String[] good, String[] bad) {
        return pick(r, chance(r, 10) ? bad : good);
    }

    private static boolean chance(Random r, int percent) {
        return r.nextInt(100) < percent;
    }

    // ------------------------------------------------------------------ expressions

    private static final String[] VARS = {"r", "count", "domain", "later", "missing", "item", "vars", "none",
            "True", "x_1"};
    private static final String[] BINARY = {"==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "and", "or",
            "in", "not in", "=", "===", "<>", "&&", "||", "**"};
    private static final String[] FILTERS = {"length", "lower", "upper", "int", "string", "bool", "default",
            "default(0)", "default('x')", "lenght", "exec", "int(1)"};
    private static final String[] NUMBERS = {"0", "1", "-1", "3", "9007199254740992", "9007199254740993",
            "9223372036854775807", "9223372036854775808", "99999999999999999999", "1.5", "0.1", "1e3",
            "1" + "0".repeat(400) + ".5", "0.0", "00", "4294967297", "\u0661", "\u0661.\u0662"};
    private static final String[] STRINGS = {"'a'", "\"b\"", "'a}}b'", "\"}}\"", "'{{'", "'it''s'", "'\\''",
            "'\\n'", "'unclosed", "\"unclosed", "''", "'é'"};

    /** An expression, valid more often than not, at most about {@code depth} levels deep. */
    public static String expression(Random r) {
        String e = chance(r, 5) ? deepExpression(r) : expression(r, 1 + r.nextInt(6));
        return chance(r, 30) ? mutate(r, e, "()[]{}'\".,|-+ !=<>0123456789aznot\u0661\t\n") : e;
    }

    private static String deepExpression(Random r) {
        int n = 50 + r.nextInt(5000);
        return switch (r.nextInt(6)) {
            case 0 -> "(".repeat(n) + "1" + ")".repeat(n);
            case 1 -> "1" + " + 1".repeat(n);
            case 2 -> "not ".repeat(n) + "true";
            case 3 -> "-".repeat(n) + "1";
            case 4 -> "r" + ".disks".repeat(n);
            default -> "[".repeat(n) + "]".repeat(n);
        };
    }

    private static String expression(Random r, int depth) {
        if (depth <= 0 || chance(r, 25)) {
            return atom(r);
        }
        return switch (r.nextInt(9)) {
            case 0, 1, 2 -> expression(r, depth - 1) + " " + pick(r, BINARY) + " " + expression(r, depth - 1);
            case 3 -> "(" + expression(r, depth - 1) + ")";
            case 4 -> "not " + expression(r, depth - 1);
            case 5 -> expression(r, depth - 1) + " | " + pick(r, FILTERS);
            case 6 -> expression(r, depth - 1) + (chance(r, 50) ? " is defined" : " is not defined");
            case 7 -> expression(r, depth - 1) + "[" + expression(r, depth - 1) + "]";
            default -> "[" + expression(r, depth - 1) + ", " + expression(r, depth - 1) + "]";
        };
    }

    private static String atom(Random r) {
        return switch (r.nextInt(5)) {
            case 0 -> pick(r, NUMBERS);
            case 1 -> pick(r, STRINGS);
            case 2 -> pick(r, VARS) + (chance(r, 50) ? "." + pick(r, new String[] {"state", "disks", "changed", "x"}) : "");
            case 3 -> pick(r, new String[] {"true", "false", "null", "[]", "-" + pick(r, NUMBERS)});
            default -> pick(r, VARS);
        };
    }

    /** Text with templates in it: literal parts and {@code {{ }}} parts, sometimes unbalanced. */
    public static String template(Random r) {
        StringBuilder sb = new StringBuilder();
        int parts = 1 + r.nextInt(3);
        for (int i = 0; i < parts; i++) {
            if (chance(r, 40)) {
                sb.append(pick(r, new String[] {"web", "-", " ", "}}", "{", "}", "snap", "'"}));
            }
            sb.append("{{").append(chance(r, 80) ? " " : "").append(expression(r));
            if (chance(r, 90)) {
                sb.append(chance(r, 80) ? " " : "").append("}}");
            }
        }
        return sb.toString();
    }

    // ------------------------------------------------------------------ YAML

    /** A YAML document shaped like a playbook, with anchors, aliases, tags and deep nesting, then mutated. */
    public static String yaml(Random r) {
        Yaml y = new Yaml(r);
        StringBuilder sb = new StringBuilder();
        if (chance(r, 97)) {
            sb.append("name: ").append(chance(r, 80) ? "a playbook" : y.scalar()).append('\n');
        }
        if (chance(r, 60)) {
            sb.append("vars:").append(y.anchor()).append('\n');
            int n = r.nextInt(4);
            for (int i = 0; i < n; i++) {
                sb.append("  ").append(chance(r, 90) ? "v" + i : y.scalar()).append(": ").append(y.value(2)).append('\n');
            }
        }
        for (String section : new String[] {"steps", "on_failure", "always"}) {
            if (section.equals("steps") ? chance(r, 95) : chance(r, 25)) {
                sb.append(section).append(':').append(y.anchor()).append('\n');
                y.steps(sb, "  ", 0);
            }
        }
        if (chance(r, 5)) {
            sb.append(pick(r, new String[] {"---\nname: y\n", "step:\n  - a\n", "name: dup\n", "...\n", "%YAML 1.1\n"}));
        }
        String text = sb.toString();
        return chance(r, 20) ? mutate(r, text, " \t\n-:{}[],&*!|>'\"#%@`?") : text;
    }

    /** The state of one YAML document being written: its anchors so far. */
    private static final class Yaml {
        private final Random r;
        /** Every anchor so far; an alias to one whose value is still being written is a recursive alias. */
        private final List<String> anchors = new ArrayList<>();

        Yaml(Random r) {
            this.r = r;
        }

        /** An anchor for the collection about to be written, or nothing. */
        String anchor() {
            if (!chance(r, 15)) {
                return "";
            }
            String a = "a" + anchors.size();
            anchors.add(a);
            return " &" + a;
        }

        String alias() {
            return "*" + anchors.get(r.nextInt(anchors.size()));
        }

        void steps(StringBuilder sb, String indent, int depth) {
            if (!anchors.isEmpty() && chance(r, 5)) {
                sb.setLength(sb.length() - 1);
                sb.append(' ').append(alias()).append('\n');
                return;
            }
            int n = chance(r, 10) ? 0 : 1 + r.nextInt(3);
            if (n == 0 && chance(r, 50)) {
                sb.setLength(sb.length() - 1);
                sb.append(pick(r, new String[] {" []", " ~", " x", " {}"})).append('\n');
                return;
            }
            for (int i = 0; i < n; i++) {
                String type = pick(r, STEP_TYPES, BAD_STEP_TYPES);
                sb.append(indent).append("- ").append(type).append(": ").append(params(type)).append('\n');
                String inner = indent + "  ";
                int controls = r.nextInt(4);
                java.util.Set<String> given = new java.util.HashSet<>();
                for (int c = 0; c < controls; c++) {
                    String control = pick(r, CONTROLS, BAD_CONTROLS);
                    if (!given.add(control) && chance(r, 90)) {
                        continue; // mostly each control once: a duplicate key stops the loader early
                    }
                    if (control.equals("rollback") && depth < 6) {
                        sb.append(inner).append("rollback:").append(anchor()).append('\n');
                        steps(sb, inner + "  ", depth + 1);
                    } else {
                        sb.append(inner).append(control).append(": ").append(control(control)).append('\n');
                    }
                }
            }
        }

        String params(String type) {
            if (chance(r, 10)) {
                return pick(r, new String[] {"", "~", "x", "[1, 2]", "{}"});
            }
            StringBuilder sb = new StringBuilder("{ ");
            String[] names = PARAMS_OF.getOrDefault(type, PARAMS);
            for (int i = 0; i < names.length; i++) {
                if (i > 0) {
                    sb.append(", ");
                }
                String name = chance(r, 10) ? pick(r, BAD_PARAMS) : names[i];
                sb.append(name).append(": ").append(chance(r, 60) ? simple(name) : flow(3));
            }
            return sb.append(" }").toString();
        }

        /** A value of the parameter's own type, or a template. */
        private String simple(String param) {
            return switch (param) {
                case "value" -> pick(r, new String[] {"1", "-7", "9223372036854775807", quoted(template(r))});
                case "in_plan" -> pick(r, new String[] {"false", "true", "no"});
                default -> chance(r, 50) ? "c" + r.nextInt(3) : quoted(template(r));
            };
        }

        String control(String control) {
            return switch (control) {
                case "when", "until" -> quoted(chance(r, 50) ? expression(r) : template(r));
                case "verify" -> "[" + quoted(expression(r)) + ", " + quoted(expression(r)) + "]";
                case "retries" -> pick(r, new String[] {"0", "3", "1000", "1001", "5000", "-1", "!!int 7", "x",
                        "99999999999"});
                case "delay", "timeout" -> pick(r, new String[] {"5s", "250ms", "1h", "soon", "999999999h", "[1]"});
                case "tags" -> pick(r, new String[] {"[a, b]", "a", "[[a]]", "{a: 1}"});
                default -> scalar();
            };
        }

        /** A value in block position: a scalar, a flow collection, or sometimes a deep one. */
        String value(int depth) {
            if (chance(r, 5)) {
                int n = 1 + r.nextInt(80);
                return anchor() + " " + "[".repeat(n) + (anchors.isEmpty() ? "1" : alias()) + "]".repeat(n);
            }
            return flow(depth);
        }

        /** A flow-style value, nesting at most {@code depth} more levels. */
        String flow(int depth) {
            int k = r.nextInt(10);
            if (depth <= 0 || k < 5) {
                return scalar();
            }
            if (k == 5 && !anchors.isEmpty()) {
                return alias();
            }
            String anchor = anchor();
            String body;
            if (k < 8) {
                List<String> items = new ArrayList<>();
                for (int i = r.nextInt(3); i > 0; i--) {
                    items.add(flow(depth - 1));
                }
                body = "[" + String.join(", ", items) + "]";
            } else {
                List<String> items = new ArrayList<>();
                for (int i = r.nextInt(3); i > 0; i--) {
                    items.add("k" + i + ": " + flow(depth - 1));
                }
                body = "{" + String.join(", ", items) + "}";
            }
            return (anchor.isEmpty() ? "" : anchor.substring(1) + " ") + body;
        }

        String scalar() {
            return switch (chance(r, 6) ? 0 : 1 + r.nextInt(5)) {
                case 0 -> pick(r, TAGS) + " " + pick(r, WORDS);
                case 1 -> quoted(template(r));
                case 2 -> quoted(pick(r, WORDS));
                default -> plain(pick(r, WORDS));
            };
        }

        private String plain(String word) {
            return word.isEmpty() || word.matches(".*[{}\\[\\],&*#:!|>'\"%@`?-].*") || word.startsWith(" ")
                    ? quoted(word) : word;
        }
    }

    private static String quoted(String text) {
        return '"' + text.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n").replace("\t", "\\t") + '"';
    }

    // ------------------------------------------------------------------ Groovy

    /** A Groovy playbook script: the DSL, correct and misused, with values and controls at their bounds. */
    public static String groovy(Random r) {
        StringBuilder sb = new StringBuilder();
        if (chance(r, 10)) {
            sb.append(pick(r, new String[] {"def l = []\nl << l\n", "base = '/srv'\n", "@groovy.transform.Field int n = 1\n",
                    "def x = 1 / 0\n", "import java.nio.file.*\n"}));
        }
        sb.append(chance(r, 95) ? "playbook(" : "playbok(").append(groovyString(r)).append(") {\n");
        if (chance(r, 50)) {
            sb.append("  vars ").append("domain: ").append(groovyValue(r, 2)).append(", count: ")
                    .append(groovyValue(r, 1)).append('\n');
        }
        groovySteps(r, sb, "  ", 0);
        for (String block : new String[] {"onFailure", "always"}) {
            if (chance(r, 20)) {
                sb.append("  ").append(block).append(" {\n");
                groovySteps(r, sb, "    ", 1);
                sb.append("  }\n");
            }
        }
        if (chance(r, 8)) {
            sb.append(pick(r, new String[] {"  assert 1 == 2\n", "  throw new Error('boom')\n",
                    "  throw new IllegalStateException()\n", "  retries 3\n", "  def y = [:].a.b\n",
                    "  step\n", "  vars 1\n", "  playbook('again') { step 'test.read', counter: 'a' }\n"}));
        }
        sb.append(chance(r, 95) ? "}\n" : "\n");
        String text = sb.toString();
        return chance(r, 20) ? mutate(r, text, "(){}[]'\",:.\n ") : text;
    }

    private static void groovySteps(Random r, StringBuilder sb, String indent, int depth) {
        int n = 1 + r.nextInt(3);
        for (int i = 0; i < n; i++) {
            String head = "'" + pick(r, STEP_TYPES, BAD_STEP_TYPES) + "'";
            StringBuilder params = new StringBuilder();
            String[] names = PARAMS_OF.getOrDefault(head.substring(1, head.length() - 1), PARAMS);
            for (String name : names) {
                // its own names (Groovy refuses a named argument given twice at compile time), sometimes a bad one
                String param = chance(r, 5) ? pick(r, BAD_PARAMS) : name;
                String value = chance(r, 60) ? pick(r, new String[] {"1", "'c1'", "domain", "\"${domain}-x\"",
                        "false"}) : groovyValue(r, 3);
                params.append(", ").append(param).append(": ").append(value);
            }
            if (chance(r, 50)) {
                sb.append(indent).append("step ").append(head).append(params).append('\n');
                continue;
            }
            sb.append(indent).append("step(").append(head).append(params).append(") {\n");
            int controls = r.nextInt(4);
            for (int c = 0; c < controls; c++) {
                String control = pick(r, CONTROLS, BAD_CONTROLS);
                if (control.equals("rollback") && depth < 4) {
                    sb.append(indent).append("  rollback {\n");
                    groovySteps(r, sb, indent + "    ", depth + 1);
                    sb.append(indent).append("  }\n");
                    continue;
                }
                sb.append(indent).append("  ").append(control).append(' ').append(groovyControl(r, control)).append('\n');
            }
            sb.append(indent).append("}\n");
        }
    }

    private static String groovyControl(Random r, String control) {
        return switch (control) {
            case "when", "until", "verify" -> chance(r, 70) ? groovyString(r, expression(r)) : pick(r,
                    new String[] {"count", "count > 1", "r.changed", "null", "[1]"});
            case "retries" -> pick(r, new String[] {"3", "0", "1000", "1001", "5000", "-1", "'3'", "3000000000L",
                    "Integer.MAX_VALUE", "1.5"});
            case "delay", "timeout" -> pick(r, new String[] {"'5s'", "30", "'soon'", "-1", "999999999999L", "null"});
            case "tags" -> pick(r, new String[] {"'a', 'b'", "(['a'])", "1", "null"});
            case "register" -> pick(r, new String[] {"'r'", "'true'", "'a.b'", "'1x'", "'r'"});
            default -> groovyString(r);
        };
    }

    private static String groovyValue(Random r, int depth) {
        int k = r.nextInt(10);
        if (depth <= 0 || k < 6) {
            return chance(r, 8)
                    ? pick(r, new String[] {"9223372036854775808", "1e400", "new Date()", "{ -> 1 }", "Double.NaN",
                            "'x'.class", "count - 1", "System.getenv()"})
                    : pick(r, new String[] {groovyString(r), "1", "-1", "9223372036854775807", "3G", "0.5", "true",
                            "null", "domain", "count.x", "\"${domain}-x\"", "'a' * 3", "[1, 2] as int[]", "(1..3)"});
        }
        if (k == 6 && chance(r, 30)) {
            // around the bound (the Groovy compiler itself slows down sharply on deeper literals)
            int n = new int[] {5, 48, 49, 50, 51, 55}[r.nextInt(6)];
            return "[".repeat(n) + "1" + "]".repeat(n);
        }
        List<String> items = new ArrayList<>();
        for (int i = r.nextInt(3); i > 0; i--) {
            items.add(k < 8 ? groovyValue(r, depth - 1) : pick(r, PARAMS) + ": " + groovyValue(r, depth - 1));
        }
        return k < 8 ? "[" + String.join(", ", items) + "]" : items.isEmpty() ? "[:]" : "[" + String.join(", ", items) + "]";
    }

    private static String groovyString(Random r) {
        return groovyString(r, chance(r, 30) ? template(r) : pick(r, WORDS));
    }

    /** {@code text} as a single-quoted Groovy string (no interpolation). */
    private static String groovyString(Random r, String text) {
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'";
    }

    // ------------------------------------------------------------------ mutation

    /** {@code text} with one to three random edits: a character deleted, inserted or doubled, a line moved. */
    static String mutate(Random r, String text, String alphabet) {
        StringBuilder sb = new StringBuilder(text);
        for (int edits = 1 + r.nextInt(3); edits > 0; edits--) {
            int at = sb.length() == 0 ? 0 : r.nextInt(sb.length());
            switch (r.nextInt(4)) {
                case 0 -> {
                    if (sb.length() > 0) {
                        sb.deleteCharAt(at);
                    }
                }
                case 1 -> sb.insert(at, alphabet.charAt(r.nextInt(alphabet.length())));
                case 2 -> {
                    if (sb.length() > 0) {
                        sb.insert(at, sb.charAt(at));
                    }
                }
                default -> {
                    int end = sb.indexOf("\n", at);
                    if (end > at) {
                        String line = sb.substring(at, end + 1);
                        sb.delete(at, end + 1);
                        sb.insert(r.nextInt(sb.length() + 1), line);
                    }
                }
            }
        }
        return sb.toString();
    }
}
