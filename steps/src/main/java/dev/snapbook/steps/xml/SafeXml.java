package dev.snapbook.steps.xml;

import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;

/**
 * The one place snapbook parses XML (libvirt domain and snapshot documents). Doctype declarations are
 * refused outright, so neither external entities nor entity expansion ("billion laughs") can happen, and
 * XInclude is off (DESIGN.md, safety rule 3). libvirt never emits a doctype, so nothing real is lost.
 */
public final class SafeXml {

    /** An XML document that could not be parsed or was refused, with a message naming what it was. */
    public static final class Refused extends Exception {
        public Refused(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * One builder per thread, made from the hardened factory: finding and configuring a factory costs more than
     * parsing a domain's XML, and observing a host reads one per domain. A builder is not thread-safe, hence one per
     * thread; {@link DocumentBuilder#reset()} before each parse.
     */
    private static final ThreadLocal<DocumentBuilder> BUILDER = ThreadLocal.withInitial(() -> {
        try {
            return factory().newDocumentBuilder();
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException("the JDK's XML parser cannot be configured", e);
        }
    });

    private SafeXml() {
    }

    /**
     * Parses {@code xml}, which is described by {@code what} in error messages (e.g.
     * {@code domain XML of web01}).
     *
     * @throws Refused when it is not well-formed or declares a doctype
     */
    public static Document parse(String xml, String what) throws Refused {
        try {
            DocumentBuilder builder = BUILDER.get();
            builder.reset();
            // The default handler prints to stderr before throwing; we report the exception instead.
            builder.setErrorHandler(new org.xml.sax.helpers.DefaultHandler() {
                @Override
                public void fatalError(SAXParseException e) throws SAXException {
                    throw e;
                }
            });
            return builder.parse(new InputSource(new StringReader(xml)));
        } catch (SAXParseException e) {
            String reason = e.getMessage();
            if (reason != null && reason.contains("DOCTYPE")) {
                reason = "it declares a DOCTYPE, which snapbook refuses (entities could read files or expand"
                        + " without bound)";
            }
            throw new Refused(what + " is not acceptable XML at line " + e.getLineNumber() + ": " + reason, e);
        } catch (SAXException | IOException e) {
            throw new Refused(what + " is not acceptable XML: " + e.getMessage(), e);
        }
    }

    private static DocumentBuilderFactory factory() {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        try {
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setFeature("http://xml.org/sax/features/external-general-entities", false);
            f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
            f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        } catch (ParserConfigurationException e) {
            // The JDK's parser supports all of these; a parser that does not is not safe to use.
            throw new IllegalStateException("the XML parser cannot be configured safely", e);
        }
        f.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
        f.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
        f.setXIncludeAware(false);
        f.setExpandEntityReferences(false);
        f.setNamespaceAware(false);
        return f;
    }

    /** The child elements of {@code parent} named {@code name}, in document order. */
    public static List<Element> children(Element parent, String name) {
        List<Element> found = new ArrayList<>();
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                found.add(e);
            }
        }
        return found;
    }

    /** The first child element of {@code parent} named {@code name}, or null. */
    public static Element child(Element parent, String name) {
        List<Element> all = children(parent, name);
        return all.isEmpty() ? null : all.get(0);
    }

    /** The attribute's value, or null when it is absent (the DOM returns "" for both). */
    public static String attr(Element element, String name) {
        if (element == null || !element.hasAttribute(name)) {
            return null;
        }
        return element.getAttribute(name);
    }

    // ------------------------------------------------------------------ building (written by XmlText)

    /** A new, empty document for building XML with the DOM (never by string concatenation). */
    public static Document newDocument() {
        try {
            return factory().newDocumentBuilder().newDocument();
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException("the JDK's XML parser cannot be configured", e);
        }
    }

    /** Appends a new element {@code name} to {@code parent} (the document itself for the root). */
    public static Element append(Document doc, Node parent, String name) {
        Element e = doc.createElement(name);
        parent.appendChild(e);
        return e;
    }
}
