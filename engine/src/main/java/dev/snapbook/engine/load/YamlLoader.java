package dev.snapbook.engine.load;

import dev.snapbook.engine.expr.DidYouMeanText;
import dev.snapbook.engine.expr.Expressions;
import dev.snapbook.engine.model.Location;
import dev.snapbook.engine.model.Playbook;
import dev.snapbook.engine.model.StepCall;
import dev.snapbook.engine.model.StepField;
import dev.snapbook.engine.model.Template;
import dev.snapbook.engine.spi.Durations;
import dev.snapbook.engine.model.Values;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.composer.Composer;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.events.Event;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.parser.Parser;
import org.yaml.snakeyaml.parser.ParserImpl;
import org.yaml.snakeyaml.reader.StreamReader;
import org.yaml.snakeyaml.resolver.Resolver;

import java.io.StringReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a YAML playbook (Ansible style) into the {@link Playbook} model, keeping the line and column of
 * every step and field for error messages.
 *
 * <pre>
 * name: Restart a VM
 * vars: { domain: web01 }
 * steps:
 *   - name: Stop it
 *     domain.shutdown: { domain: "{{ domain }}", timeout: 60s, force: true }
 *     register: stopped
 * on_failure: [ ... ]
 * always: [ ... ]
 * </pre>
 *
 * <p>Only plain YAML is read: no custom tags, no Java objects, no duplicate keys, a single document,
 * aliases only of values that do not contain themselves, at most {@value #MAX_DEPTH} levels of nesting.
 * Every problem is a {@link PlaybookError} with its line and column.
 */
public final class YamlLoader implements PlaybookLoader {

    static final List<String> TOP_FIELDS = List.of("name", "vars", "steps", "on_failure", "always");
    static final List<String> STEP_FIELDS = StepField.keys();

    private final Set<String> knownStepTypes;

    /**
     * @param knownStepTypes the step catalogue's names, used to tell a misspelled field ({@code regsiter})
     *                       from a step type; the {@link Validator} still checks types against the catalogue
     */
    public YamlLoader(Set<String> knownStepTypes) {
        this.knownStepTypes = Set.copyOf(knownStepTypes);
    }

    /**
     * How deep collections may nest, counted after aliases are expanded. Real playbooks stay under ten
     * (playbook, steps, step, rollback, step, parameters, a value); the bound keeps every reader of the
     * model, which walks values recursively, far from the end of its stack.
     */
    static final int MAX_DEPTH = Values.MAX_DEPTH;

    /** How many aliases of lists and mappings a file may use, so that no alias bomb expands. */
    static final int MAX_COLLECTION_ALIASES = 20;

    @Override
    public Playbook load(String file, String text) throws PlaybookError {
        Node root = compose(file, text);
        if (root == null) {
            throw new PlaybookError(new Location(file, 1, 1), null,
                    "the file is empty; a playbook needs at least 'name' and 'steps'");
        }
        new Shape(file).check(root, null, 1);
        return new Reader(file).playbook(root);
    }

    /**
     * The node graph of {@code text}, composed without constructing any object. The composer is built here
     * rather than through {@code Yaml.compose} so that it is plain which {@link LoaderOptions} apply: the
     * scanner reads the size limit, the composer the alias limit, the nesting limit and the tag inspector
     * (which refuses global tags other than YAML's own, {@code !!python/object:...} for one). The
     * duplicate-key and recursive-key options belong to SnakeYAML's constructor, which never runs here, so
     * they are not set; {@link Reader#fields} refuses duplicate keys and {@link Shape} refuses recursion.
     */
    private static Node compose(String file, String text) throws PlaybookError {
        LoaderOptions options = new LoaderOptions();
        options.setMaxAliasesForCollections(MAX_COLLECTION_ALIASES);
        options.setNestingDepthLimit(MAX_DEPTH);
        options.setCodePointLimit(4 * 1024 * 1024);
        options.setMergeOnCompose(false); // '<<' stays a plain key, refused like any unknown one
        LastEvent parser = new LastEvent(new ParserImpl(new StreamReader(new StringReader(text)), options));
        try {
            return new Composer(parser, new Resolver(), options).getSingleNode();
        } catch (MarkedYAMLException e) {
            Mark m = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            String problem = "malformed YAML: " + e.getProblem()
                    + (e.getContext() != null ? " (" + e.getContext() + ")" : "");
            throw new PlaybookError(m != null ? at(file, m) : parser.location(file), null, problem);
        } catch (YAMLException e) {
            // the alias, nesting and size limits throw without a mark: the last event read is where it stopped
            throw new PlaybookError(parser.location(file), null, "malformed YAML: " + e.getMessage());
        }
    }

    /** A parser that remembers where the last event it handed out starts. */
    private static final class LastEvent implements Parser {
        private final Parser parser;
        private Mark last;

        LastEvent(Parser parser) {
            this.parser = parser;
        }

        @Override
        public boolean checkEvent(Event.ID choice) {
            return parser.checkEvent(choice);
        }

        @Override
        public Event peekEvent() {
            return parser.peekEvent();
        }

        @Override
        public Event getEvent() {
            Event e = parser.getEvent();
            if (e != null) {
                last = e.getStartMark();
            }
            return e;
        }

        Location location(String file) {
            return last == null ? new Location(file, 1, 1) : at(file, last);
        }
    }

    private static Location at(String file, Mark mark) {
        return mark == null ? new Location(file, 0, 0) : new Location(file, mark.getLine() + 1, mark.getColumn() + 1);
    }

    /**
     * Checks the composed graph before anything reads it: no node contains itself (an anchor used inside
     * its own value, {@code a: &a [*a]}, which would make every reader recurse forever), and no path is
     * deeper than {@link #MAX_DEPTH} once aliases are expanded.
     */
    private static final class Shape {
        private final String file;
        private final Set<Node> open = Collections.newSetFromMap(new IdentityHashMap<>());

        Shape(String file) {
            this.file = file;
        }

        void check(Node node, String path, int depth) throws PlaybookError {
            if (node instanceof ScalarNode) {
                return;
            }
            if (!open.add(node)) {
                throw new PlaybookError(at(file, node.getStartMark()), path,
                        "a recursive alias: the value anchored here contains an alias of itself (at the field named),"
                                + " so it would never end");
            }
            if (depth > MAX_DEPTH) {
                throw new PlaybookError(at(file, node.getStartMark()), path,
                        "lists and mappings nest more than " + MAX_DEPTH + " levels deep here (aliases expanded)");
            }
            if (node instanceof SequenceNode seq) {
                List<Node> items = seq.getValue();
                for (int i = 0; i < items.size(); i++) {
                    check(items.get(i), (path == null ? "" : path) + "[" + i + "]", depth + 1);
                }
            } else if (node instanceof MappingNode m) {
                for (NodeTuple t : m.getValue()) {
                    String key = t.getKeyNode() instanceof ScalarNode k ? k.getValue() : "?";
                    check(t.getKeyNode(), path, depth + 1);
                    check(t.getValueNode(), path == null ? key : path + "." + key, depth + 1);
                }
            }
            open.remove(node);
        }
    }

    /** Reads one file; holds its name for locations. */
    private final class Reader {
        private final String file;

        Reader(String file) {
            this.file = file;
        }

        Playbook playbook(Node root) throws PlaybookError {
            MappingNode top = mapping(root, null, "a playbook must be a mapping with 'name' and 'steps'");
            Map<String, NodeTuple> fields = fields(top, null);
            for (Map.Entry<String, NodeTuple> f : fields.entrySet()) {
                if (!TOP_FIELDS.contains(f.getKey())) {
                    throw error(f.getValue().getKeyNode(), f.getKey(), "unknown field"
                            + DidYouMeanText.suggest(f.getKey(), TOP_FIELDS)
                            + "; a playbook has " + String.join(", ", TOP_FIELDS));
                }
            }
            if (!fields.containsKey("name")) {
                throw error(top, "name", "missing: give the playbook a name saying what it does");
            }
            String name = string(fields.get("name").getValueNode(), "name");
            Map<String, Object> vars = new LinkedHashMap<>();
            if (fields.containsKey("vars")) {
                Node varsNode = fields.get("vars").getValueNode();
                if (!isNull(varsNode)) {
                    MappingNode vm = mapping(varsNode, "vars", "vars must be a mapping of names to values");
                    for (Map.Entry<String, NodeTuple> v : fields(vm, "vars").entrySet()) {
                        if (!v.getKey().matches("[A-Za-z_][A-Za-z0-9_]*")) {
                            throw error(v.getValue().getKeyNode(), "vars." + v.getKey(),
                                    "a variable name is letters, digits and '_', not starting with a digit");
                        }
                        vars.put(v.getKey(), value(v.getValue().getValueNode(), "vars." + v.getKey()));
                    }
                }
            }
            if (!fields.containsKey("steps")) {
                throw error(top, "steps", "missing: a playbook needs a list of steps");
            }
            List<StepCall> steps = steps(fields.get("steps").getValueNode(), "steps");
            if (steps.isEmpty()) {
                throw error(fields.get("steps").getValueNode(), "steps", "the list of steps is empty");
            }
            List<StepCall> onFailure = fields.containsKey("on_failure")
                    ? steps(fields.get("on_failure").getValueNode(), "on_failure") : List.of();
            List<StepCall> always = fields.containsKey("always")
                    ? steps(fields.get("always").getValueNode(), "always") : List.of();
            return new Playbook(name, vars, steps, onFailure, always, file);
        }

        List<StepCall> steps(Node node, String path) throws PlaybookError {
            if (isNull(node)) {
                return List.of();
            }
            if (!(node instanceof SequenceNode seq)) {
                throw error(node, path, "expected a list of steps (items starting with '- '), got "
                        + kind(node));
            }
            List<StepCall> out = new ArrayList<>();
            for (int i = 0; i < seq.getValue().size(); i++) {
                out.add(step(seq.getValue().get(i), path + "[" + i + "]"));
            }
            return out;
        }

        StepCall step(Node node, String path) throws PlaybookError {
            MappingNode m = mapping(node, path,
                    "a step is a mapping like '- domain.state: { domain: web01 }'");
            Map<String, NodeTuple> fields = fields(m, path);
            Map<String, Location> locations = new LinkedHashMap<>();
            String type = null;
            Node paramsNode = null;
            for (Map.Entry<String, NodeTuple> f : fields.entrySet()) {
                String key = f.getKey();
                locations.put(key, at(file, f.getValue().getKeyNode().getStartMark()));
                if (STEP_FIELDS.contains(key)) {
                    continue;
                }
                boolean looksLikeField = !knownStepTypes.contains(key) && !key.contains(".")
                        && !DidYouMeanText.suggest(key, STEP_FIELDS).isEmpty();
                if (looksLikeField) {
                    throw error(f.getValue().getKeyNode(), path + "." + key, "unknown step field"
                            + DidYouMeanText.suggest(key, STEP_FIELDS) + "; a step has "
                            + String.join(", ", STEP_FIELDS) + " and one step type");
                }
                if (type != null) {
                    throw error(f.getValue().getKeyNode(), path + "." + key, "this step already calls '" + type
                            + "'; each list item calls one step type (start a new item with '- ')");
                }
                type = key;
                paramsNode = f.getValue().getValueNode();
            }
            if (type == null) {
                throw error(m, path, "no step type: add one, e.g. 'domain.state: { domain: web01 }' (fields found: "
                        + String.join(", ", fields.keySet()) + ")");
            }
            locations.put("type", locations.get(type));
            Map<String, Object> params = new LinkedHashMap<>();
            if (!isNull(paramsNode)) {
                MappingNode pm = mapping(paramsNode, path + "." + type,
                        "the parameters of " + type + " must be a mapping, e.g. '" + type + ": { name: value }'");
                for (Map.Entry<String, NodeTuple> p : fields(pm, path + "." + type).entrySet()) {
                    locations.put("param:" + p.getKey(), at(file, p.getValue().getKeyNode().getStartMark()));
                    params.put(p.getKey(), value(p.getValue().getValueNode(), path + "." + type + "." + p.getKey()));
                }
            }
            String name = fields.containsKey("name") ? string(fields.get("name").getValueNode(), path + ".name") : null;
            String when = fields.containsKey("when") ? expression(fields.get("when").getValueNode(), path + ".when") : null;
            String register = fields.containsKey("register")
                    ? string(fields.get("register").getValueNode(), path + ".register") : null;
            List<String> verify = fields.containsKey("verify")
                    ? expressions(fields.get("verify").getValueNode(), path + ".verify") : List.of();
            List<StepCall> rollback = fields.containsKey("rollback")
                    ? steps(fields.get("rollback").getValueNode(), path + ".rollback") : List.of();
            int retries = fields.containsKey("retries")
                    ? retries(fields.get("retries").getValueNode(), path + ".retries") : 0;
            String until = fields.containsKey("until")
                    ? expression(fields.get("until").getValueNode(), path + ".until") : null;
            Duration delay = fields.containsKey("delay")
                    ? duration(fields.get("delay").getValueNode(), path + ".delay") : Duration.ZERO;
            Duration timeout = fields.containsKey("timeout")
                    ? duration(fields.get("timeout").getValueNode(), path + ".timeout") : null;
            List<String> tags = fields.containsKey("tags")
                    ? stringList(fields.get("tags").getValueNode(), path + ".tags") : List.of();
            return new StepCall(type, params, name, when, register, verify, rollback, retries, until, delay,
                    timeout, tags, at(file, node.getStartMark()), locations);
        }

        // ------------------------------------------------------------ values

        Object value(Node node, String path) throws PlaybookError {
            if (!(node instanceof ScalarNode) && !node.getTag().equals(Tag.MAP) && !node.getTag().equals(Tag.SEQ)) {
                throw error(node, path, "YAML tag " + node.getTag() + " is not allowed in a playbook; use plain values");
            }
            if (node instanceof ScalarNode s) {
                return scalar(s, path);
            }
            if (node instanceof SequenceNode seq) {
                List<Object> out = new ArrayList<>();
                for (int i = 0; i < seq.getValue().size(); i++) {
                    out.add(value(seq.getValue().get(i), path + "[" + i + "]"));
                }
                return out;
            }
            MappingNode m = mapping(node, path, "unsupported YAML node");
            Map<String, Object> out = new LinkedHashMap<>();
            for (Map.Entry<String, NodeTuple> e : fields(m, path).entrySet()) {
                out.put(e.getKey(), value(e.getValue().getValueNode(), path + "." + e.getKey()));
            }
            return out;
        }

        Object scalar(ScalarNode s, String path) throws PlaybookError {
            Tag tag = s.getTag();
            String text = s.getValue();
            if (tag.equals(Tag.NULL)) {
                return null;
            }
            if (tag.equals(Tag.BOOL)) {
                // the words YAML 1.1 resolves as booleans; an explicit !!bool on any other word is an error
                return switch (text.toLowerCase(java.util.Locale.ROOT)) {
                    case "true", "yes", "on", "y" -> true;
                    case "false", "no", "off", "n" -> false;
                    default -> throw error(s, path, "'" + text + "' is not a boolean; write true or false");
                };
            }
            if (tag.equals(Tag.INT)) {
                try {
                    return Long.parseLong(text.replace("_", ""));
                } catch (NumberFormatException e) {
                    throw error(s, path, "integer '" + text + "' is not a decimal number that fits in 64 bits");
                }
            }
            if (tag.equals(Tag.FLOAT)) {
                double d;
                try {
                    d = Double.parseDouble(text.replace("_", ""));
                } catch (NumberFormatException e) {
                    throw error(s, path, "'" + text + "' is not a number");
                }
                if (!Double.isFinite(d)) {
                    throw error(s, path, "'" + text + "' is not a finite number of 64-bit floating point");
                }
                return d;
            }
            if (tag.equals(Tag.STR) || tag.equals(Tag.TIMESTAMP)) {
                return Template.of(text);
            }
            throw error(s, path, "YAML tag " + tag + " is not allowed in a playbook; use plain values");
        }

        String string(Node node, String path) throws PlaybookError {
            if (node instanceof ScalarNode s && !s.getTag().equals(Tag.NULL)) {
                return s.getValue();
            }
            throw error(node, path, "expected a string, got " + kind(node));
        }

        String expression(Node node, String path) throws PlaybookError {
            if (node instanceof ScalarNode s && !s.getTag().equals(Tag.NULL)) {
                return Expressions.bare(s.getValue());
            }
            throw error(node, path, "expected an expression, e.g. \"result.changed\", got " + kind(node));
        }

        List<String> expressions(Node node, String path) throws PlaybookError {
            List<String> out = new ArrayList<>();
            if (node instanceof SequenceNode seq) {
                for (int i = 0; i < seq.getValue().size(); i++) {
                    out.add(expression(seq.getValue().get(i), path + "[" + i + "]"));
                }
            } else {
                out.add(expression(node, path));
            }
            return out;
        }

        List<String> stringList(Node node, String path) throws PlaybookError {
            List<String> out = new ArrayList<>();
            if (node instanceof SequenceNode seq) {
                for (int i = 0; i < seq.getValue().size(); i++) {
                    out.add(string(seq.getValue().get(i), path + "[" + i + "]"));
                }
            } else {
                out.add(string(node, path));
            }
            return out;
        }

        int retries(Node node, String path) throws PlaybookError {
            if (node instanceof ScalarNode s && s.getTag().equals(Tag.INT)) {
                try {
                    int n = Integer.parseInt(s.getValue());
                    if (StepField.retriesProblem(n) == null) {
                        return n;
                    }
                } catch (NumberFormatException e) {
                    // reported below
                }
            }
            throw error(node, path, "expected a whole number from 0 to " + StepField.MAX_RETRIES + ", got "
                    + kind(node));
        }

        Duration duration(Node node, String path) throws PlaybookError {
            if (node instanceof ScalarNode s) {
                Duration d = Durations.parse(s.getValue());
                if (d != null) {
                    return d;
                }
            }
            throw error(node, path, "expected a duration like 500ms, 30s, 5m or 1h, got " + kind(node));
        }

        // ------------------------------------------------------------ structure

        MappingNode mapping(Node node, String path, String expectation) throws PlaybookError {
            if (node instanceof MappingNode m) {
                return m;
            }
            throw error(node, path, expectation + "; got " + kind(node));
        }

        Map<String, NodeTuple> fields(MappingNode m, String path) throws PlaybookError {
            Map<String, NodeTuple> out = new LinkedHashMap<>();
            for (NodeTuple t : m.getValue()) {
                Node k = t.getKeyNode();
                if (!(k instanceof ScalarNode ks) || ks.getTag().equals(Tag.NULL)) {
                    throw error(k, path, "a key must be a plain name, got " + kind(k));
                }
                if (out.put(ks.getValue(), t) != null) {
                    throw error(k, path == null ? ks.getValue() : path + "." + ks.getValue(),
                            "duplicate key '" + ks.getValue() + "'; each key may appear once");
                }
            }
            return out;
        }

        boolean isNull(Node node) {
            return node instanceof ScalarNode s && s.getTag().equals(Tag.NULL);
        }

        String kind(Node node) {
            if (node instanceof MappingNode) {
                return "a mapping";
            }
            if (node instanceof SequenceNode) {
                return "a list";
            }
            ScalarNode s = (ScalarNode) node;
            if (s.getTag().equals(Tag.NULL)) {
                return "nothing (null)";
            }
            String v = s.getValue().length() > 40 ? s.getValue().substring(0, 37) + "..." : s.getValue();
            return "'" + v + "'";
        }

        PlaybookError error(Node node, String field, String problem) {
            return new PlaybookError(at(file, node.getStartMark()), field, problem);
        }
    }
}
