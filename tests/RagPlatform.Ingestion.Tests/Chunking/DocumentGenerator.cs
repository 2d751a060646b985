using System.Text;
using RagPlatform.Ingestion.Parsing;

namespace RagPlatform.Ingestion.Tests.Chunking;

/// <summary>
/// Random documents for property tests: sections with nested headings, paragraphs, lists, tables,
/// code and records, made of sentences that mix plain words with abbreviations, decimals, accents
/// (precomposed and combining), CJK, right-to-left text, emoji (with ZWJ sequences) and now and
/// then a word far longer than any budget. Seeded, so a failure names the seed that reproduces it.
/// </summary>
public sealed class DocumentGenerator(int seed)
{
    private static readonly string[] Words =
    [
        "the", "cells", "were", "measured", "protein", "binding", "analysis", "showed", "significant",
        "increase", "of", "in", "and", "patients", "with", "results", "model", "data", "is", "a",
        "e.g.", "i.e.", "et al.", "Fig.", "vs.", "etc.", "Dr.", "3.14", "0.05", "1,200", "J.",
        "café", "naïve", "cafe\u0301", "re\u0301sume\u0301", "Zürich", "straße", "Ångström",
        "中文字符", "日本語のテキスト", "한국어", "مرحبا", "שלום", "Привет", "γάλα",
        "😀", "👩‍🔬", "👨‍👩‍👧‍👦", "🇫🇷", "x²", "∑", "—", "(see", "below)", "\"quoted\"",
    ];

    private readonly Random _random = new(seed);

    public ParsedDocument Next()
    {
        var specs = new List<BlockSpec>();
        var page = _random.Next(2) == 0 ? (int?)null : 1;
        if (_random.Next(3) == 0)
        {
            AddBlocks(specs, ref page);
        }

        var sections = _random.Next(0, 6);
        for (var s = 0; s < sections; s++)
        {
            specs.Add(new BlockSpec(BlockKind.Heading, Sentence(1, 6, terminate: false), _random.Next(1, 5), page));
            AddBlocks(specs, ref page);
        }

        return Documents.Build(specs);
    }

    private void AddBlocks(List<BlockSpec> specs, ref int? page)
    {
        var blocks = _random.Next(0, 7);
        for (var b = 0; b < blocks; b++)
        {
            if (page is not null && _random.Next(3) == 0)
            {
                page += _random.Next(1, 3);
            }

            var kind = _random.Next(10) switch
            {
                < 5 => BlockKind.Paragraph,
                5 => BlockKind.ListItem,
                6 => BlockKind.Table,
                7 => BlockKind.Code,
                8 => BlockKind.Quote,
                _ => BlockKind.Record,
            };
            var text = kind switch
            {
                BlockKind.Paragraph or BlockKind.Quote => Paragraph(),
                BlockKind.ListItem => string.Join("\n", Enumerable.Range(0, _random.Next(1, 8)).Select(_ => "- " + Sentence(2, 20, terminate: true))),
                BlockKind.Table => string.Join("\n", Enumerable.Range(0, _random.Next(1, 30)).Select(_ => "| " + string.Join(" | ", Enumerable.Range(0, 4).Select(_ => Sentence(1, 4, terminate: false))) + " |")),
                BlockKind.Code => string.Join("\n", Enumerable.Range(0, _random.Next(1, 20)).Select(i => $"var x{i} = Compute({i}, \"{Word()}\");")),
                _ => "{\"id\": " + _random.Next(1000) + ", \"text\": \"" + Sentence(3, 30, terminate: true) + "\"}",
            };
            specs.Add(new BlockSpec(kind, text, 0, page));
        }
    }

    private string Paragraph()
    {
        var builder = new StringBuilder();
        var sentences = _random.Next(1, 14);
        for (var s = 0; s < sentences; s++)
        {
            if (s > 0)
            {
                builder.Append(_random.Next(12) == 0 ? "\n" : " ");
            }

            builder.Append(_random.Next(10) == 0 ? CjkSentence() : Sentence(3, 30, terminate: true));
        }

        return builder.ToString();
    }

    private string Sentence(int minWords, int maxWords, bool terminate)
    {
        var words = Enumerable.Range(0, _random.Next(minWords, maxWords + 1)).Select(_ => Word()).ToList();
        words[0] = char.ToUpperInvariant(words[0][0]) + words[0][1..];
        var sentence = string.Join(' ', words);
        return terminate ? sentence + ".!?"[_random.Next(3)] : sentence;
    }

    private string CjkSentence()
    {
        const string Clause = "研究结果表明蛋白质结合显著增加";
        var builder = new StringBuilder();
        for (var i = _random.Next(1, 5); i > 0; i--)
        {
            builder.Append(Clause, _random.Next(0, 8), 7).Append(_random.Next(2) == 0 ? '。' : '！');
        }

        return builder.ToString();
    }

    private string Word()
    {
        var roll = _random.Next(200);
        if (roll == 0)
        {
            // Longer than any budget under test: only characters can divide it.
            return LongWord(_random.Next(300, 3000));
        }

        return roll < 6 ? LongWord(_random.Next(8, 40)) : Words[_random.Next(Words.Length)];
    }

    private string LongWord(int length)
    {
        const string Alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789éü中😀\u0301";
        var builder = new StringBuilder(length + 2);
        while (builder.Length < length)
        {
            var index = _random.Next(Alphabet.Length);
            var c = Alphabet[index];
            if (char.IsHighSurrogate(c))
            {
                builder.Append(c).Append(Alphabet[index + 1]);
            }
            else if (!char.IsLowSurrogate(c))
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
