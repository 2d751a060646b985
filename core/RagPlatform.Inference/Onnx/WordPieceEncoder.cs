using Microsoft.ML.Tokenizers;
using RagPlatform.Core;
using RagPlatform.Inference.Models;
using RagPlatform.Inference.Tokenization;

namespace RagPlatform.Inference.Onnx;

/// <summary>
/// Turns text into the model's WordPiece ids, without special tokens, cut at a token budget the
/// way Hugging Face truncates (by word piece, not by whole word).
/// </summary>
internal sealed class WordPieceEncoder
{
    // BertTokenizer's budgeted encoding stops at a word boundary. Asking for this many extra
    // pieces (a word has at most 100 characters, hence at most 100 pieces, before it becomes
    // [UNK]) and cutting afterwards gives the exact piece-level cut, while a long text is still
    // only tokenized up to the budget.
    private const int WordSlack = 100;

    private readonly BertTokenizer _tokenizer;

    private WordPieceEncoder(BertTokenizer tokenizer)
    {
        _tokenizer = tokenizer;
        Special = new SpecialTokens(tokenizer.ClassificationTokenId, tokenizer.SeparatorTokenId, tokenizer.PaddingTokenId);
    }

    public SpecialTokens Special { get; }

    public static WordPieceEncoder Create(ModelConfiguration config)
    {
        try
        {
            return new WordPieceEncoder(TokenCounters.CreateBertTokenizer(config.VocabPath, config.Lowercase));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new RagValidationException(
                config.VocabPath,
                $"cannot be read as a BERT WordPiece vocabulary ({ex.Message}). It must be the model's vocab.txt: one token per line, " +
                "including [CLS], [SEP], [PAD] and [UNK].");
        }
    }

    /// <summary>
    /// The ids of <paramref name="text"/>. The list may be longer than <paramref name="budget"/>;
    /// callers use only its first <paramref name="budget"/> entries.
    /// </summary>
    public IReadOnlyList<int> Encode(string text, int budget)
        => text.Length == 0
            ? []
            : _tokenizer.EncodeToIds(TokenCounters.ForBert(text), budget + WordSlack, addSpecialTokens: false, out _, out _);

    public int CountTokens(string text) => text.Length == 0 ? 0 : _tokenizer.CountTokens(TokenCounters.ForBert(text));
}
