using System.Numerics.Tensors;

namespace RagPlatform.Retrieval.Internal;

/// <summary>Maximal marginal relevance: trades relevance against similarity to what is already chosen.</summary>
internal static class Mmr
{
    /// <summary>
    /// Picks <paramref name="count"/> of the candidates (relevance in [0, 1], best first). A candidate
    /// without a vector is treated as dissimilar to everything.
    /// </summary>
    public static List<int> Select(IReadOnlyList<double> relevance, IReadOnlyList<float[]?> vectors, int count, double lambda)
    {
        var chosen = new List<int>(count);
        var maxSim = new double[relevance.Count];
        var used = new bool[relevance.Count];
        while (chosen.Count < Math.Min(count, relevance.Count))
        {
            var best = -1;
            var bestValue = double.NegativeInfinity;
            for (var i = 0; i < relevance.Count; i++)
            {
                if (used[i])
                {
                    continue;
                }

                var value = (lambda * relevance[i]) - ((1 - lambda) * maxSim[i]);
                if (value > bestValue)
                {
                    bestValue = value;
                    best = i;
                }
            }

            used[best] = true;
            chosen.Add(best);
            if (vectors[best] is { } picked)
            {
                for (var i = 0; i < relevance.Count; i++)
                {
                    if (!used[i] && vectors[i] is { } other && other.Length == picked.Length)
                    {
                        maxSim[i] = Math.Max(maxSim[i], TensorPrimitives.Dot(picked, other));
                    }
                }
            }
        }

        return chosen;
    }
}
