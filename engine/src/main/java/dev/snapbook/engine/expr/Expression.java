package dev.snapbook.engine.expr;

import dev.snapbook.engine.spi.Unknown;

import java.util.ArrayList;
import java.util.Collection;
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

    /** Parses {@code source}. */
    public static Expression parse(String source) {
        Parser p = new Parser(source);
        Node n = p.parseExpression();
        p.expectEnd();
        return new Expression(source, n);
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
            int i = n.intValue();
            if (i < 0) {
                i += l.size();
            }
            if (i < 0 || i >= l.size()) {
                throw new ExpressionError("index " + n + " is outside " + shown + " (size " + l.size() + ")");
            }
            return l.get(i);
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
            if (v instanceof Long l) {
                return -l;
            }
            if (v instanceof Double d) {
                return -d;
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
                    if (v instanceof Number n) {
                        yield n.longValue();
                    }
                    try {
                        yield Long.parseLong(String.valueOf(v).strip());
                    } catch (NumberFormatException e) {
                        throw new ExpressionError("'" + v + "' is not an integer");
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
            return a.doubleValue() == b.doubleValue();
        }
        return Objects.equals(l, r);
    }

    private static boolean compare(String op, Object l, Object r) {
        int c;
        if (l instanceof Number a && r instanceof Number b) {
            c = Double.compare(a.doubleValue(), b.doubleValue());
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
        if (a instanceof Long x && b instanceof Long y) {
            return switch (op) {
                case "+" -> Math.addExact(x, y);
                case "-" -> Math.subtractExact(x, y);
                case "*" -> Math.multiplyExact(x, y);
                case "/" -> {
                    if (y == 0) {
                        throw new ExpressionError("division by zero");
                    }
                    yield x % y == 0 ? x / y : (double) x / y;
                }
                default -> {
                    if (y == 0) {
                        throw new ExpressionError("division by zero");
                    }
                    yield x % y;
                }
            };
        }
        double x = a.doubleValue();
        double y = b.doubleValue();
        return switch (op) {
            case "+" -> x + y;
            case "-" -> x - y;
            case "*" -> x * y;
            case "/" -> x / y;
            default -> x % y;
        };
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

    private static final class Parser {
        private final String src;
        private int pos;

        Parser(String src) {
            this.src = src;
        }

        Node parseExpression() {
            return or();
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
                n = new Logic("or", n, and());
            }
            return n;
        }

        private Node and() {
            Node n = not();
            while (keyword("and")) {
                n = new Logic("and", n, not());
            }
            return n;
        }

        private Node not() {
            if (keyword("not")) {
                return new Not(not());
            }
            return comparison();
        }

        private Node comparison() {
            Node n = additive();
            skipBlanks();
            for (String op : List.of("==", "!=", "<=", ">=", "<", ">")) {
                if (src.startsWith(op, pos)) {
                    pos += op.length();
                    return new Binary(op, n, additive());
                }
            }
            int save = pos;
            if (keyword("not") && keyword("in")) {
                return new Binary("not in", n, additive());
            }
            pos = save;
            if (keyword("in")) {
                return new Binary("in", n, additive());
            }
            if (keyword("is")) {
                boolean negated = keyword("not");
                if (!keyword("defined")) {
                    throw error("expected 'defined' after 'is'");
                }
                return new Defined(n, negated);
            }
            return n;
        }

        private Node additive() {
            Node n = multiplicative();
            while (true) {
                skipBlanks();
                if (peek('+') || peek('-')) {
                    String op = String.valueOf(src.charAt(pos++));
                    n = new Binary(op, n, multiplicative());
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
                    n = new Binary(op, n, unary());
                } else {
                    return n;
                }
            }
        }

        private Node unary() {
            skipBlanks();
            if (peek('-')) {
                pos++;
                return new Negate(unary());
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
                    n = new Member(n, new Literal(name), shown.toString());
                } else if (peek('[')) {
                    pos++;
                    Node key = parseExpression();
                    skipBlanks();
                    expect(']');
                    shown.append("[...]");
                    n = new Member(n, key, shown.toString());
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
                    n = new Filter(n, name, args);
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
                return new ListNode(arguments(']'));
            }
            if (c == '\'' || c == '"') {
                return new Literal(string(c));
            }
            if (Character.isDigit(c)) {
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
            while (pos < src.length() && Character.isDigit(src.charAt(pos))) {
                pos++;
            }
            if (pos + 1 < src.length() && src.charAt(pos) == '.' && Character.isDigit(src.charAt(pos + 1))) {
                pos++;
                while (pos < src.length() && Character.isDigit(src.charAt(pos))) {
                    pos++;
                }
                return new Literal(Double.parseDouble(src.substring(b, pos)));
            }
            try {
                return new Literal(Long.parseLong(src.substring(b, pos)));
            } catch (NumberFormatException e) {
                throw error("number too large");
            }
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

        private void skipBlanks() {
            while (pos < src.length() && Character.isWhitespace(src.charAt(pos))) {
                pos++;
            }
        }

        private ExpressionError error(String what) {
            return new ExpressionError("cannot parse '" + src + "' at character " + (pos + 1) + ": " + what);
        }
    }
}
