using Microsoft.ML.Tokenizers;
using RagPlatform.Core.Text;

namespace RagPlatform.Inference.Tokenization;

/// <summary>The token counters the chunker uses: the model's own WordPiece vocabulary, or tiktoken when there is no model.</summary>
public static class TokenCounters
{
    private static readonly Lazy<ITokenCounter> Cl100k = new(() => new TokenizerCounter("tiktoken:cl100k_base", TiktokenTokenizer.CreateForEncoding("cl100k_base")));

    /// <summary>tiktoken's <c>cl100k_base</c>: a fair stand-in for modern tokenizers when no embedding model is configured.</summary>
    public static ITokenCounter Tiktoken() => Cl100k.Value;

    /// <summary>
    /// A BERT WordPiece vocabulary, as the embedding model counts. Accents are stripped
    /// (<c>RemoveNonSpacingMarks</c>) to match Hugging Face's uncased tokenizers; without it,
    /// accented words become [UNK] and counts drift from the model's.
    /// </summary>
    public static ITokenCounter WordPiece(string vocabPath, bool lowerCase = true, string? name = null)
    {
        var tokenizer = CreateBertTokenizer(vocabPath, lowerCase);
        return new WordPieceCounter($"wordpiece:{name ?? Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(vocabPath)))}", tokenizer);
    }

    /// <summary>
    /// Prepares text for <see cref="BertTokenizer"/>: Microsoft.ML.Tokenizers 2.0.1 deletes
    /// <c>\n</c>, <c>\r</c> and <c>\t</c> instead of treating them as spaces, gluing the words on
    /// either side (<c>"cat\ndog"</c> becomes <c>cat ##dog</c>; Hugging Face gives <c>cat dog</c>).
    /// Replacing them one for one keeps every character offset.
    /// </summary>
    public static string ForBert(string text)
    {
        if (text.AsSpan().IndexOfAny('\n', '\r', '\t') < 0)
        {
            return text;
        }

        return string.Create(text.Length, text, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                var c = source[i];
                span[i] = c is '\n' or '\r' or '\t' ? ' ' : c;
            }
        });
    }

    /// <summary>The BERT tokenizer configured as the ONNX models expect.</summary>
    public static BertTokenizer CreateBertTokenizer(string vocabPath, bool lowerCase = true)
        => BertTokenizer.Create(vocabPath, new BertOptions
        {
            LowerCaseBeforeTokenization = lowerCase,
            RemoveNonSpacingMarks = true,
        });

    private sealed class TokenizerCounter(string name, Tokenizer tokenizer) : ITokenCounter
    {
        public string Name => name;

        public int CountTokens(string text) => text.Length == 0 ? 0 : tokenizer.CountTokens(text);
    }

    private sealed class WordPieceCounter(string name, BertTokenizer tokenizer) : ITokenCounter
    {
        public string Name => name;

        public int CountTokens(string text) => text.Length == 0 ? 0 : tokenizer.CountTokens(ForBert(text));
    }
}
