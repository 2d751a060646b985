using System.Diagnostics;
using System.Text.Json;
using RagPlatform.Cli.Hosting;

namespace RagPlatform.Cli.Evaluation;

/// <summary>
/// The full-size synthetic models of ../shared/models (random weights with the real models' shapes,
/// for throughput only), generated once under <c>artifacts/models</c> with the shared script.
/// </summary>
internal static class SyntheticModels
{
    /// <summary>A model directory with the MiniLM-L6-shaped embedder, or null (with the reason written) when it cannot be made.</summary>
    public static string? EnsureMiniLmShaped(TextWriter log)
    {
        var generated = Path.Combine(SharedLocations.Artifacts, "models", "synthetic-full");
        var onnx = Path.Combine(generated, "synthetic_minilm_l6_shape.onnx");
        var script = Path.Combine(SharedLocations.SharedDirectory, "models", "synthetic-tiny-bert-TEST-ONLY", "gen_synthetic_bert.py");
        var vocab = Path.Combine(SharedLocations.SharedDirectory, "models", "all-MiniLM-L6-v2-tokenizer", "vocab.txt");
        if (!File.Exists(onnx))
        {
            if (!File.Exists(script))
            {
                log.WriteLine($"bench: skipping the model part: {script} not found (it lives in ../shared/models)");
                return null;
            }

            log.WriteLine($"bench: generating the full-size synthetic models once into {generated} (about a minute)...");
            Directory.CreateDirectory(generated);
            var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            psi.ArgumentList.Add(script);
            psi.ArgumentList.Add(generated);
            psi.ArgumentList.Add("--full");
            using var process = Process.Start(psi)!;
            var stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0 || !File.Exists(onnx))
            {
                log.WriteLine($"bench: skipping the model part: generating the model failed ({stderr.Trim().Split('\n').LastOrDefault()}). Install Debian's python3-onnx and python3-numpy (apt-get install python3-onnx python3-numpy) or pass --model DIR.");
                return null;
            }
        }

        var dir = Path.Combine(SharedLocations.Artifacts, "models", "minilm-l6-shape");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "rag-model.json"), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["name"] = "synthetic-minilm-l6-shape",
            ["pooling"] = "mean",
            ["normalize"] = true,
            ["max_tokens"] = 256,
            ["lowercase"] = true,
            ["model_file"] = onnx,
            ["vocab_file"] = vocab,
        }));
        return dir;
    }
}
