using System.Text;
using RagPlatform.Storage.Vectors.Internal;

namespace RagPlatform.Storage.Tests.Vectors;

public sealed class Crc32CTests
{
    [Fact]
    public void The_standard_check_value_is_produced()
        => Assert.Equal(0xE3069283u, Crc32C.Compute(Encoding.ASCII.GetBytes("123456789")));

    [Fact]
    public void Hardware_and_table_paths_agree_with_a_bitwise_reference_at_every_length_and_in_pieces()
    {
        var rng = new Random(5);
        for (var length = 0; length < 70; length++)
        {
            var data = new byte[length];
            rng.NextBytes(data);
            var split = length / 3;

            Assert.Equal(Reference(data), Crc32C.Compute(data));
            Assert.Equal(Reference(data), Crc32C.Append(Crc32C.Compute(data.AsSpan(0, split)), data.AsSpan(split)));
        }
    }

    private static uint Reference(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? 0x82F63B78u ^ (crc >> 1) : crc >> 1;
            }
        }

        return ~crc;
    }
}
