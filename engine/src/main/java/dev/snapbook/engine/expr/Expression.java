package dev.snapbook.engine.expr;

import dev.snapbook.engine.spi.Unknown;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * A parsed expression of the small language used inside {@code {{ }}} and in {@code when}, {@code until},
 * {@code verify} and {@code assert}.
 *
 * <p>The language is deliberately small and has no way to call code: literals ({@code 'text'},
 * {@code "text"}, {@code 42}, {@code 1.5}, {@code true}, {@code false}, {@code null}, {@code [a, b]}),
 * variables, member and index access ({@code r.disks.vda}, {@code r['disks']}, {@code list[0]}),
 * {@code == != < <= > >=}, {@code in}, {@code not in}, {@code and or not}, {@code + - * / %},
 * {@code x is defined}, {@code x is not defined}, and the filters {@code | length}, {@code | lower},
 * {@code | upper}, {@code | int}, {@code | string}, {@code | bool}, {@code | default(v)}.
 *
 * <p>Any operation on an {@link Unknown} value gives an unknown value, except {@code and}/{@code or}
 * when the other side decides the answer ({@code false and ?} is false).
 */
public final class Expression {

    private final String source;
    private final Node root;

    private Expression(String source, Node root) {
        this.source = source;
        this.root = root;
    }

    /**
     * How deep an expression may nest: parentheses, lists, indexes and filter arguments inside each other,
     * and chains of operators ({@code a + b + c} is two levels). Evaluation walks the tree recursively; the
     * bound keeps it, and the parser, far from the end of the stack.
     */
    public static final int MAX_DEPTH = 100;

    /** How many parsed expressions are kept for reuse: far more than a playbook holds. */
    private static final int KEPT = 4096;

    /**
     * The expressions parsed so far, by source. A playbook's are parsed once, when it is loaded (the loader
     * validates each), and plan and run take the parsed trees from here; a tree is immutable and evaluation has no
     * state, so one tree serves every evaluation, on any thread. The oldest go first beyond {@link #KEPT}.
     */
    private static final Map<String, Expression> PARSED = Collections.synchronizedMap(
            new LinkedHashMap<>(64, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Expression> eldest) {
                    return size() > KEPT;
                }
            });

    /**
     * Parses {@code source}, or gives the tree parsed from the same source before.
     *
     * @throws ExpressionError for anything that is not one whole expression, and for nothing else
     */
    public static Expression parse(String source) {
        Expression known = PARSED.get(source);
        if (known != null) {
            return known;
        }
        Parser p = new Parser(source, 0);
        Node n = p.parseExpression();
        p.expectEnd();
        Expression parsed = new Expression(source, n);
        PARSED.put(source, parsed);
        return parsed;
    }

    /**
     * The expression that starts at {@code from} in {@code text} and ends, after optional blanks, right
     * before <code>}}</code>: what the inside of a template's {@code {{ }}} holds. The parser reads tokens, so a
     * <code>}}</code> inside a string literal (<code>{{ 'a}}b' }}</code>) belongs to the string.
     *
     * @return the expression, whose {@link #source()} is its text without the surrounding blanks, and the
     *         index just after the closing braces
     * @throws ExpressionError when no expression starts there or it is not followed by <code>}}</code>
     */
    static Embedded parseEmbedded(String text, int from) {
        Parser p = new Parser(text, from);
        Node n = p.parseExpression();
        p.skipBlanks();
        if (!text.startsWith("}}", p.pos)) {
            if (p.pos >= text.length()) {
                throw p.error("'{{' at character " + (from - 1) + " is not closed with '}}'");
            }
            throw p.error("unexpected '" + text.substring(p.pos, Math.min(text.length(), p.pos + 10))
                    + "' (expected '}}' to close the '{{' at character " + (from - 1) + ")");
        }
        String inner = text.substring(from, p.pos).strip();
        return new Embedded(new Expression(inner, n), p.pos + 2);
    }

    /** An expression read out of a template, and where the template's text goes on after it. */
    record Embedded(Expression expression, int end) {
    }

    public String source() {
        return source;
    }

    /** Evaluates against {@code scope}; returns plain values, or an {@link Unknown}. */
    public Object evaluate(Scope scope) {
        try {
            return root.eval(scope);
        } catch (ExpressionError e) {
            throw new ExpressionError("in '" + source + "': " + e.getMessage());
        }
    }

    /** The truth of a value as {@code when} and {@code verify} see it. */
    public static boolean truthy(Object v) {
        if (v == null) {
            return false;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof Number n) {
            return n.doubleValue() != 0;
        }
        if (v instanceof String s) {
            return !s.isEmpty();
        }
        if (v instanceof Collection<?> c) {
            return !c.isEmpty();
        }
        if (v instanceof Map<?, ?> m) {
            return !m.isEmpty();
        }
        return true;
    }

    // ---------------------------------------------------------------- syntax tree

    private interface Node {
        Object eval(Scope scope);
    }

    private record Literal(Object value) implements Node {
        public Object eval(Scope scope) {
            return value;
        }
    }

    private record Var(String name) implements Node {
        public Object eval(Scope scope) {
            Object v = scope.lookup(name);
            if (v == Scope.UNDEFINED) {
                throw new ExpressionError("'" + name + "' is not defined (define it under vars, pass it with -e "
                        + name + "=VALUE, or register it in an earlier step)");
            }
            return v;
        }
    }

    private record ListNode(List<Node> items) implements Node {
        public Object eval(Scope scope) {
            List<Object> out = new ArrayList<>();
            for (Node n : items) {
                out.add(n.eval(scope));
            }
            return out;
        }
    }

    private record Member(Node target, Node key, String shown) implements Node {
        public Object eval(Scope scope) {
            Object t = target.eval(scope);
            Object k = key.eval(scope);
            if (t instanceof Unknown u) {
                return u;
            }
            if (k instanceof Unknown u) {
                return u;
            }
            return access(t, k, shown);
        }
    }

    static Object access(Object target, Object key, String shown) {
        if (target instanceof Map<?, ?> m) {
            String name = String.valueOf(key);
            if (!m.containsKey(name)) {
                throw new ExpressionError("no field '" + name + "' in " + shown + " (it has: "
                        + String.join(", ", m.keySet().stream().map(String::valueOf).toList()) + ")");
            }
            return m.get(name);
        }
        if (target instanceof List<?> l && key instanceof Number n) {
            if (!Numbers.integral(n)) {
                throw new ExpressionError("index " + n + " of " + shown + " is not a whole number");
            }
            long i = n.longValue();
            if (i < 0) {
                i += l.size();
            }
            if (i < 0 || i >= l.size()) {
                throw new ExpressionError("index " + n + " is outside " + shown + " (size " + l.size() + ")");
            }
            return l.get((int) i);
        }
        if (target == null) {
            throw new ExpressionError("cannot read '" + key + "' of null (" + shown + ")");
        }
        throw new ExpressionError("cannot read '" + key + "' of " + typeName(target) + " (" + shown + ")");
    }

    private record Defined(Node target, boolean negated) implements Node {
        public Object eval(Scope scope) {
            boolean defined;
            try {
                Object v = target.eval(scope);
                if (v instanceof Unknown u) {
                    return u;
                }
                defined = true;
            } catch (ExpressionError e) {
                defined = false;
            }
            return defined != negated;
        }
    }

    private record Not(Node operand) implements Node {
        public Object eval(Scope scope) {
            Object v = operand.eval(scope);
            return v instanceof Unknown ? v : !truthy(v);
        }
    }

    private record Negate(Node operand) implements Node {
        public Object eval(Scope scope) {
            Object v = operand.eval(scope);
            if (v instanceof Unknown) {
                return v;
            }
            if (v instanceof Number n && Numbers.integral(n)) {
                try {
                    return Math.negateExact(n.longValue());
                } catch (ArithmeticException e) {
                    throw overflow("-(" + n + ")");
                }
            }
            if (v instanceof Number n) {
                return -n.doubleValue();
            }
            throw new ExpressionError("cannot negate " + typeName(v));
        }
    }

    private record Logic(String op, Node left, Node right) implements Node {
        public Object eval(Scope scope) {
            Object l = left.eval(scope);
            boolean and = op.equals("and");
            if (!(l instanceof Unknown) && truthy(l) != and) {
                return !and;
            }
            Object r = right.eval(scope);
            if (r instanceof Unknown) {
                return r;
            }
            if (truthy(r) != and) {
                return !and;
            }
            return l instanceof Unknown ? l : and;
        }
    }

    private record Binary(String op, Node left, Node right) implements Node {
        public Object eval(Scope scope) {
            Object l = left.eval(scope);
            Object r = right.eval(scope);
            if (l instanceof Unknown) {
                return l;
            }
            if (r instanceof Unknown) {
                return r;
            }
            return switch (op) {
                case "==" -> same(l, r);
                case "!=" -> !same(l, r);
                case "<", "<=", ">", ">=" -> compare(op, l, r);
                case "in" -> contains(r, l);
                case "not in" -> !contains(r, l);
                default -> arithmetic(op, l, r);
            };
        }
    }

    private record Filter(Node target, String name, List<Node> args) implements Node {
        public Object eval(Scope scope) {
            if (name.equals("default")) {
                try {
                    Object v = target.eval(scope);
                    if (v != null) {
                        return v;
                    }
                } catch (ExpressionError e) {
                    // undefined: use the default
                }
                return args.isEmpty() ? null : args.get(0).eval(scope);
            }
            Object v = target.eval(scope);
            if (v instanceof Unknown) {
                return v;
            }
            return switch (name) {
                case "length" -> {
                    if (v instanceof String s) {
                        yield (long) s.length();
                    }
                    if (v instanceof Collection<?> c) {
                        yield (long) c.size();
                    }
                    if (v instanceof Map<?, ?> m) {
                        yield (long) m.size();
                    }
                    throw new ExpressionError("length of " + typeName(v) + " is not defined");
                }
                case "lower" -> String.valueOf(v).toLowerCase(Locale.ROOT);
                case "upper" -> String.valueOf(v).toUpperCase(Locale.ROOT);
                case "string" -> v == null ? "" : String.valueOf(v);
                case "bool" -> v instanceof String s
                        ? s.equalsIgnoreCase("true") || s.equalsIgnoreCase("yes") || s.equals("1") : truthy(v);
                case "int" -> {
                    if (v instanceof Number n && Numbers.integral(n)) {
                        yield n.longValue();
                    }
                    if (v instanceof Number n) {
                        double d = n.doubleValue();
                        if (!Double.isFinite(d) || d >= 0x1p63 || d < -0x1p63) {
                            throw new ExpressionError(v + " | int does not fit in a 64-bit integer");
                        }
                        yield (long) d; // towards zero, as Jinja's int does
                    }
                    try {
                        yield Long.parseLong(String.valueOf(v).strip());
                    } catch (NumberFormatException e) {
                        throw new ExpressionError("'" + v + "' is not an integer that fits in 64 bits");
                    }
                }
                default -> throw new ExpressionError("unknown filter '" + name + "'");
            };
        }
    }

    static final List<String> FILTERS = List.of("length", "lower", "upper", "string", "bool", "int", "default");

    // ---------------------------------------------------------------- semantics

    private static boolean same(Object l, Object r) {
        if (l instanceof Number a && r instanceof Number b) {
            return Numbers.equal(a, b);
        }
        return Objects.equals(l, r);
    }

    private static boolean compare(String op, Object l, Object r) {
        int c;
        if (l instanceof Number a && r instanceof Number b) {
            if (Numbers.isNaN(a) || Numbers.isNaN(b)) {
                return false; // NaN is neither smaller, equal nor larger
            }
            c = Numbers.compare(a, b);
        } else if (l instanceof String a && r instanceof String b) {
            c = a.compareTo(b);
        } else {
            throw new ExpressionError("cannot compare " + typeName(l) + " with " + typeName(r) + " using " + op);
        }
        return switch (op) {
            case "<" -> c < 0;
            case "<=" -> c <= 0;
            case ">" -> c > 0;
            default -> c >= 0;
        };
    }

    private static boolean contains(Object container, Object item) {
        if (container instanceof String s) {
            return item != null && s.contains(String.valueOf(item));
        }
        if (container instanceof Collection<?> c) {
            return c.stream().anyMatch(x -> same(x, item));
        }
        if (container instanceof Map<?, ?> m) {
            return m.containsKey(String.valueOf(item));
        }
        throw new ExpressionError("'in' needs a list, map or string on its right, not " + typeName(container));
    }

    private static Object arithmetic(String op, Object l, Object r) {
        if (op.equals("+") && (l instanceof String || r instanceof String)) {
            return String.valueOf(l) + r;
        }
        if (op.equals("+") && l instanceof List<?> a && r instanceof List<?> b) {
            List<Object> out = new ArrayList<>(a);
            out.addAll(b);
            return out;
        }
        if (!(l instanceof Number a) || !(r instanceof Number b)) {
            throw new ExpressionError("cannot apply " + op + " to " + typeName(l) + " and " + typeName(r));
        }
        if (Numbers.integral(a) && Numbers.integral(b)) {
            long x = a.longValue();
            long y = b.longValue();
            try {
                return switch (op) {
                    case "+" -> Math.addExact(x, y);
                    case "-" -> Math.subtractExact(x, y);
                    case "*" -> Math.multiplyExact(x, y);
                    case "/" -> {
                        if (y == 0) {
                            throw new ExpressionError("division by zero");
                        }
                        if (x % y != 0) {
                            yield (double) x / y;
                        }
                        if (x == Long.MIN_VALUE && y == -1) {
                            throw new ArithmeticException("the one quotient of two longs that does not fit");
                        }
                        yield x / y;
                    }
                    default -> {
                        if (y == 0) {
                            throw new ExpressionError("division by zero");
                        }
                        yield x % y;
                    }
                };
            } catch (ArithmeticException e) {
                throw overflow(x + " " + op + " " + y);
            }
        }
        double x = a.doubleValue();
        double y = b.doubleValue();
        if ((op.equals("/") || op.equals("%")) && y == 0) {
            throw new ExpressionError("division by zero");
        }
        double result = switch (op) {
            case "+" -> x + y;
            case "-" -> x - y;
            case "*" -> x * y;
            case "/" -> x / y;
            default -> x % y;
        };
        if (!Double.isFinite(result) && Double.isFinite(x) && Double.isFinite(y)) {
            throw new ExpressionError(x + " " + op + " " + y + " is too large for a 64-bit floating point number");
        }
        return result;
    }

    private static ExpressionError overflow(String operation) {
        return new ExpressionError(operation + " does not fit in a 64-bit integer (from "
                + Long.MIN_VALUE + " to " + Long.MAX_VALUE + ")");
    }

    static String typeName(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof String) {
            return "a string";
        }
        if (v instanceof Boolean) {
            return "a boolean";
        }
        if (v instanceof Number) {
            return "a number";
        }
        if (v instanceof List<?>) {
            return "a list";
        }
        if (v instanceof Map<?, ?>) {
            return "a map";
        }
        return v.getClass().getSimpleName();
    }

    // ---------------------------------------------------------------- parser

    /**
     * A recursive-descent parser over {@code src} from a start index. Two bounds keep it and evaluation
     * finite on hostile input: {@link #nesting}, the parser's own recursion (parentheses, brackets, prefix
     * operators), and the depth of every node it builds (chains of infix and postfix operators are loops
     * here but nested nodes in the tree).
     */
    private static final class Parser {
        private final String src;
        private int pos;
        private int nesting;
        private final Map<Node, Integer> depths = new IdentityHashMap<>();

        Parser(String src, int from) {
            this.src = src;
            this.pos = from;
        }

        Node parseExpression() {
            enter();
            try {
                return or();
            } finally {
                nesting--;
            }
        }

        private void enter() {
            if (++nesting > MAX_DEPTH) {
                throw error("the expression nests more than " + MAX_DEPTH + " levels deep");
            }
        }

        /** {@code node}, one level deeper than the deepest of {@code children}; refused beyond the bound. */
        private Node built(Node node, Node... children) {
            return built(node, List.of(children));
        }

        private Node built(Node node, List<Node> children) {
            int depth = 1;
            for (Node c : children) {
                depth = Math.max(depth, depths.getOrDefault(c, 1) + 1);
            }
            if (depth > MAX_DEPTH) {
                throw error("the expression nests more than " + MAX_DEPTH + " levels deep"
                        + " (a chain of operators counts one level for each)");
            }
            depths.put(node, depth);
            return node;
        }

        void expectEnd() {
            skipBlanks();
            if (pos < src.length()) {
                throw error("unexpected '" + src.substring(pos, Math.min(src.length(), pos + 10)) + "'");
            }
        }

        private Node or() {
            Node n = and();
            while (keyword("or")) {
                Node r = and();
                n = built(new Logic("or", n, r), n, r);
            }
            return n;
        }

        private Node and() {
            Node n = not();
            while (keyword("and")) {
                Node r = not();
                n = built(new Logic("and", n, r), n, r);
            }
            return n;
        }

        private Node not() {
            if (keyword("not")) {
                enter();
                try {
                    Node operand = not();
                    return built(new Not(operand), operand);
                } finally {
                    nesting--;
                }
            }
            return comparison();
        }

        private Node comparison() {
            Node n = additive();
            skipBlanks();
            for (String op : List.of("==", "!=", "<=", ">=", "<", ">")) {
                if (src.startsWith(op, pos)) {
                    pos += op.length();
                    Node r = additive();
                    return built(new Binary(op, n, r), n, r);
                }
            }
            int save = pos;
            if (keyword("not") && keyword("in")) {
                Node r = additive();
                return built(new Binary("not in", n, r), n, r);
            }
            pos = save;
            if (keyword("in")) {
                Node r = additive();
                return built(new Binary("in", n, r), n, r);
            }
            if (keyword("is")) {
                boolean negated = keyword("not");
                if (!keyword("defined")) {
                    throw error("expected 'defined' after 'is'");
                }
                return built(new Defined(n, negated), n);
            }
            return n;
        }

        private Node additive() {
            Node n = multiplicative();
            while (true) {
                skipBlanks();
                if (peek('+') || peek('-')) {
                    String op = String.valueOf(src.charAt(pos++));
                    Node r = multiplicative();
                    n = built(new Binary(op, n, r), n, r);
                } else {
                    return n;
                }
            }
        }

        private Node multiplicative() {
            Node n = unary();
            while (true) {
                skipBlanks();
                if (peek('*') || peek('/') || peek('%')) {
                    String op = String.valueOf(src.charAt(pos++));
                    Node r = unary();
                    n = built(new Binary(op, n, r), n, r);
                } else {
                    return n;
                }
            }
        }

        private Node unary() {
            skipBlanks();
            if (peek('-')) {
                pos++;
                enter();
                try {
                    Node operand = unary();
                    return built(new Negate(operand), operand);
                } finally {
                    nesting--;
                }
            }
            return postfix();
        }

        private Node postfix() {
            skipBlanks();
            int begin = pos;
            Node n = primary();
            StringBuilder shown = new StringBuilder(src.substring(begin, pos).strip());
            while (true) {
                skipBlanks();
                if (peek('.')) {
                    pos++;
                    String name = identifier();
                    shown.append('.').append(name);
                    n = built(new Member(n, new Literal(name), shown.toString()), n);
                } else if (peek('[')) {
                    pos++;
                    Node key = parseExpression();
                    skipBlanks();
                    expect(']');
                    shown.append("[...]");
                    n = built(new Member(n, key, shown.toString()), n, key);
                } else if (peek('|')) {
                    pos++;
                    skipBlanks();
                    String name = identifier();
                    if (!FILTERS.contains(name)) {
                        throw error("unknown filter '" + name + "'" + DidYouMeanText.suggest(name, FILTERS)
                                + " (filters: " + String.join(", ", FILTERS) + ")");
                    }
                    List<Node> args = new ArrayList<>();
                    skipBlanks();
                    if (peek('(')) {
                        pos++;
                        args = arguments(')');
                    }
                    List<Node> children = new ArrayList<>(args);
                    children.add(n);
                    n = built(new Filter(n, name, args), children);
                } else {
                    return n;
                }
            }
        }

        private Node primary() {
            skipBlanks();
            if (pos >= src.length()) {
                throw error("expression ends too early");
            }
            char c = src.charAt(pos);
            if (c == '(') {
                pos++;
                Node n = parseExpression();
                skipBlanks();
                expect(')');
                return n;
            }
            if (c == '[') {
                pos++;
                List<Node> items = arguments(']');
                return built(new ListNode(items), items);
            }
            if (c == '\'' || c == '"') {
                return new Literal(string(c));
            }
            if (digitAt(pos)) {
                return number();
            }
            if (Character.isLetter(c) || c == '_') {
                String id = identifier();
                return switch (id) {
                    case "true", "True" -> new Literal(true);
                    case "false", "False" -> new Literal(false);
                    case "null", "none", "None" -> new Literal(null);
                    case "and", "or", "not", "in", "is" -> throw error("'" + id + "' needs a value before it");
                    default -> new Var(id);
                };
            }
            throw error("unexpected '" + c + "'");
        }

        private List<Node> arguments(char close) {
            List<Node> items = new ArrayList<>();
            skipBlanks();
            if (peek(close)) {
                pos++;
                return items;
            }
            while (true) {
                items.add(parseExpression());
                skipBlanks();
                if (peek(',')) {
                    pos++;
                } else {
                    expect(close);
                    return items;
                }
            }
        }

        private String string(char quote) {
            StringBuilder sb = new StringBuilder();
            pos++;
            while (pos < src.length()) {
                char c = src.charAt(pos++);
                if (c == quote) {
                    return sb.toString();
                }
                if (c == '\\' && pos < src.length()) {
                    char e = src.charAt(pos++);
                    switch (e) {
                        case 'n' -> sb.append('\n');
                        case 't' -> sb.append('\t');
                        default -> sb.append(e);
                    }
                } else {
                    sb.append(c);
                }
            }
            throw error("string is not closed with " + quote);
        }

        private Node number() {
            int b = pos;
            while (digitAt(pos)) {
                pos++;
            }
            if (peek('.') && digitAt(pos + 1)) {
                pos++;
                while (digitAt(pos)) {
                    pos++;
                }
                double d = Double.parseDouble(src.substring(b, pos));
                if (Double.isInfinite(d)) {
                    throw error("number too large for a 64-bit floating point number");
                }
                return new Literal(d);
            }
            try {
                return new Literal(Long.parseLong(src.substring(b, pos)));
            } catch (NumberFormatException e) {
                throw error("number too large: a whole number is at most " + Long.MAX_VALUE);
            }
        }

        /**
         * ASCII digits only: {@code Character.isDigit} also takes the digits of other scripts, which
         * {@code Double.parseDouble} does not read.
         */
        private boolean digitAt(int i) {
            return i < src.length() && src.charAt(i) >= '0' && src.charAt(i) <= '9';
        }

        private String identifier() {
            skipBlanks();
            int b = pos;
            while (pos < src.length() && (Character.isLetterOrDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
                pos++;
            }
            if (b == pos) {
                throw error("expected a name");
            }
            return src.substring(b, pos);
        }

        private boolean keyword(String word) {
            skipBlanks();
            if (src.startsWith(word, pos)) {
                int end = pos + word.length();
                if (end == src.length() || !(Character.isLetterOrDigit(src.charAt(end)) || src.charAt(end) == '_')) {
                    pos = end;
                    return true;
                }
            }
            return false;
        }

        private boolean peek(char c) {
            return pos < src.length() && src.charAt(pos) == c;
        }

        private void expect(char c) {
            if (!peek(c)) {
                throw error("expected '" + c + "'");
            }
            pos++;
        }

        void skipBlanks() {
            while (pos < src.length() && Character.isWhitespace(src.charAt(pos))) {
                pos++;
            }
        }

        ExpressionError error(String what) {
            return new ExpressionError("cannot parse '" + src + "' at character " + (pos + 1) + ": " + what);
        }
    }
}
