namespace RagPlatform.Core.Text;

/// <summary>
/// Counts tokens the way the embedding model will (its WordPiece vocabulary when a model is
/// configured, otherwise a tiktoken encoding), so that chunk budgets hold at embedding time.
/// </summary>
public interface ITokenCounter
{
    /// <summary>Names the tokenizer, e.g. <c>wordpiece:all-MiniLM-L6-v2</c> or <c>tiktoken:cl100k_base</c>.</summary>
    string Name { get; }

    /// <summary>Tokens in <paramref name="text"/>, without special tokens such as [CLS] and [SEP].</summary>
    int CountTokens(string text);
}
