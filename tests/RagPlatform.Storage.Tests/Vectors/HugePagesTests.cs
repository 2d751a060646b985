using RagPlatform.Storage.Vectors.Internal;

namespace RagPlatform.Storage.Tests.Vectors;

public sealed class HugePagesTests
{
    /// <summary>The slabs are marked from their first whole 2 MB page to their last; smaller arrays are left alone.</summary>
    [Fact]
    public void A_large_array_is_marked_for_huge_pages_over_its_whole_2_MB_pages_and_a_small_one_is_left_alone()
    {
        Assert.True(OperatingSystem.IsLinux(), "the platform runs on Linux; this test checks the call that only Linux has");
        var slab = GC.AllocateUninitializedArray<sbyte>(9 << 20);

        var marked = HugePages.Advise(slab);

        // 9 MB starting anywhere spans 3 or 4 whole 2 MB-aligned pages.
        Assert.InRange(marked, 3 * HugePages.PageSize, 4 * HugePages.PageSize);
        Assert.Equal(0, HugePages.Advise(new sbyte[(int)HugePages.PageSize]));
        Assert.Equal(0, HugePages.Advise(new float[1000]));
    }
}
