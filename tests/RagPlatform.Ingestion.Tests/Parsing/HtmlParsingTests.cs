using RagPlatform.Ingestion.Parsing;
using RagPlatform.Testing;

namespace RagPlatform.Ingestion.Tests.Parsing;

public sealed class HtmlParsingTests
{
    private readonly DocumentParser _parser = new();

    [Fact]
    public void Html_keeps_headings_paragraphs_lists_tables_code_and_quotes_of_the_main_content()
    {
        var document = _parser.Parse(TestDocuments.Utf8(TestDocuments.HtmlPage), "tides.html");

        Assert.Equal("html", document.Format);
        Assert.Equal(
            [
                (BlockKind.Heading, "Tidal Energy Explained"),
                (BlockKind.Paragraph, "Tides move huge volumes of water twice a day.\nTurbines capture that motion."),
                (BlockKind.Heading, "How it works"),
                (BlockKind.Paragraph, "Barrages and tidal stream generators are the two main designs."),
                (BlockKind.ListItem, "- Predictable output"),
                (BlockKind.ListItem, "- Long-lived equipment"),
                (BlockKind.ListItem, "3. Survey the site"),
                (BlockKind.ListItem, "4. Install the turbines"),
                (BlockKind.Table, "Site | Capacity (MW)\nLa Rance | 240\nSihwa Lake | 254"),
                (BlockKind.Code, "power = 0.5 * density * area * velocity^3\n    if power > limit:\n        throttle()"),
                (BlockKind.Quote, "The tide is a clock that never stops."),
            ],
            ParsedDocumentAssert.KindsAndTexts(document));
        Assert.Equal([1, 2], document.Blocks.Where(b => b.Kind == BlockKind.Heading).Select(b => b.HeadingLevel));
        ParsedDocumentAssert.WellFormed(document);
    }

    [Theory]
    [InlineData("cookies")]
    [InlineData("EnergySite")]
    [InlineData("Solar")]
    [InlineData("Menu")]
    [InlineData("Related")]
    [InlineData("Copyright")]
    [InlineData("analytics")]
    [InlineData("trackPageView")]
    [InlineData("font-family")]
    [InlineData("hidden")]
    [InlineData("Decorative")]
    [InlineData("Subscribe")]
    public void Page_furniture_is_dropped(string boilerplate)
    {
        var document = _parser.Parse(TestDocuments.Utf8(TestDocuments.HtmlPage), "tides.html");

        Assert.DoesNotContain(boilerplate, document.Text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Html_title_and_metadata_come_from_the_head()
    {
        var document = _parser.Parse(TestDocuments.Utf8(TestDocuments.HtmlPage), "tides.html");

        Assert.Equal("Tidal Energy Explained", document.Title);
        Assert.Equal("How tides become electricity.", document.Metadata["description"]);
        Assert.Equal("Grace Hopper", document.Metadata["author"]);
        Assert.Equal("tides, energy", document.Metadata["keywords"]);
        Assert.Equal("en", document.Metadata["language"]);
    }

    [Fact]
    public void Without_a_title_element_the_first_h1_is_the_title()
    {
        var document = _parser.Parse(TestDocuments.Utf8("<html><body><p>Intro</p><h1>The <em>Real</em> Title</h1><p>Body</p></body></html>"), "page.htm");

        Assert.Equal("The Real Title", document.Title);
        Assert.Equal(["Intro", "The Real Title", "Body"], ParsedDocumentAssert.BlockTexts(document));
    }

    [Fact]
    public void Without_main_or_a_single_article_the_whole_body_is_read_and_text_outside_paragraphs_is_kept()
    {
        var html = """
            <body>
              <article><h2>One</h2><p>First story.</p></article>
              <article><h2>Two</h2><p>Second story.</p></article>
              <div>Loose text in a div <span>with a span</span></div>
              Bare text at the end
            </body>
            """;

        var document = _parser.Parse(TestDocuments.Utf8(html), "list.html");

        Assert.Equal(["One", "First story.", "Two", "Second story.", "Loose text in a div with a span", "Bare text at the end"], ParsedDocumentAssert.BlockTexts(document));
    }

    [Fact]
    public void Nested_lists_give_one_block_per_item_and_paragraphs_inside_an_item_stay_in_it()
    {
        var html = "<ul><li><p>Outer</p><p>more</p><ul><li>Inner</li></ul></li><li>Second</li></ul>";

        var document = _parser.Parse(TestDocuments.Utf8(html), "l.html");

        Assert.Equal(["- Outer\nmore", "- Inner", "- Second"], ParsedDocumentAssert.BlockTexts(document));
        Assert.All(document.Blocks, b => Assert.Equal(BlockKind.ListItem, b.Kind));
    }

    [Fact]
    public void A_layout_table_is_read_as_content_not_as_rows()
    {
        var html = "<table><tr><td><h1>Old site</h1><p>Welcome to the page.</p></td></tr></table>";

        var document = _parser.Parse(TestDocuments.Utf8(html), "old.html");

        Assert.Equal([(BlockKind.Heading, "Old site"), (BlockKind.Paragraph, "Welcome to the page.")], ParsedDocumentAssert.KindsAndTexts(document));
    }

    [Fact]
    public void Html_is_detected_by_its_doctype_even_without_an_extension()
    {
        var document = _parser.Parse(TestDocuments.Utf8("\n  <!DOCTYPE html><title>T</title><p>Hello</p>"), "download");

        Assert.Equal("html", document.Format);
        Assert.Equal("Hello", document.Text);
    }

    [Fact]
    public void Entities_and_non_breaking_spaces_become_plain_text()
    {
        var document = _parser.Parse(TestDocuments.Utf8("<p>Fish&nbsp;&amp;&nbsp;chips &eacute;t&eacute; &#x1F600;</p>"), "e.html");

        Assert.Equal("Fish & chips \u00e9t\u00e9 \U0001F600", document.Text);
    }

    [Fact]
    public void Html_nested_beyond_any_real_page_is_read_as_plain_text_so_its_words_are_still_indexed()
    {
        var html = "<html><head><style>p { color: red }</style></head><body>" + string.Concat(Enumerable.Repeat("<div><b>", 3_000))
                   + "Deep words<script>var hidden = 1;</script> &amp; more<!-- a comment --></body></html>";

        var document = _parser.Parse(TestDocuments.Utf8(html), "deep.html");

        Assert.Equal("html", document.Format);
        Assert.Equal("Deep words & more", document.Text);
        ParsedDocumentAssert.WellFormed(document);
    }

    [Fact]
    public void Landmark_roles_and_boilerplate_class_names_are_dropped_but_a_layout_wrapper_holding_the_title_is_kept()
    {
        var html = """
            <body>
              <div role="navigation">Skip to content</div>
              <div role="banner">Site banner</div>
              <div class="gdpr-consent-popup">Manage consent</div>
              <div id="breadcrumbs">Home / Energy</div>
              <div class="share-buttons">Share on social</div>
              <div class="page sidebar-layout"><h1>Kept Title</h1><p>Kept body.</p><div class="sidebar">Side links</div></div>
              <div role="contentinfo">Legal</div>
            </body>
            """;

        var document = _parser.Parse(TestDocuments.Utf8(html), "roles.html");

        Assert.Equal(["Kept Title", "Kept body."], ParsedDocumentAssert.BlockTexts(document));
    }
}
