"""The pair score (rule D2): duplicates score above the threshold, namesakes below."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from server.dedup import keys
from server.dedup.keys import Member, Profile
from server.dedup.score import THRESHOLD, candidate, name_similarity, score

HEAD = Profile(
    name="Hoàng Văn Thủy",
    birth_year=1975,
    cccd="001075012345",
    phone="0912345678",
    village="03325_01",
    point=(21.03010, 105.84010),
    members=(Member("Lò Thị Hoa", 1978), Member("Hoàng Văn Nam", 2001)),
)


def test_d2_second_registration_with_usual_variation_is_a_candidate():
    again = Profile(
        name="Huynh Van Thuy",  # no accents, regional spelling
        birth_year=1975,
        cccd="001075012354",  # two digits swapped
        phone="",
        village="03325_01",
        point=(21.03020, 105.84005),  # ~12 m away
        members=(Member("Lo Thi Hoa", 1978),),
    )
    result = score(HEAD, again)
    assert result.is_candidate, result
    assert result.breakdown["cccd"] == 3.0  # near, a weaker signal than equal


def test_d2_true_namesake_in_the_same_commune_is_not_a_candidate():
    namesake = Profile(
        name="Hoàng Văn Thủy",
        birth_year=1990,
        cccd="001090067890",
        phone="0987654321",
        village="03325_04",
        point=(21.0450, 105.8600),  # ~2.5 km
        members=(Member("Đặng Thị Lan", 1992),),
    )
    result = score(HEAD, namesake)
    assert not result.is_candidate, result
    assert result.breakdown["name"] == 4.0


def test_d2_score_breakdown_names_every_compared_property():
    result = score(HEAD, HEAD)
    assert set(result.breakdown) == {"name", "birth_year", "cccd", "phone", "distance",
                                     "village", "members"}  # fmt: skip
    assert result.total == sum(result.breakdown.values()) >= THRESHOLD


def test_d2_missing_properties_count_neither_way():
    assert score(Profile("Lò Văn Minh"), Profile("Lò Văn Minh")).breakdown == {"name": 4.0}


def test_d2_name_similarity_vietnamese_aware():
    assert name_similarity("Nguyễn Văn An", "Nguyen Van An") >= 0.95
    assert name_similarity("Nguyễn Văn An", "Nguyễn An") >= 0.95
    assert name_similarity("Y Ngông Niê Kdăm", "Niê Kdăm Y Ngông") >= 0.95
    assert name_similarity("Nguyễn Văn An", "Trần Thị Bích") < 0.6


names = st.sampled_from(["Nguyễn Văn An", "Lò Thị Hoa", "Y Ngông Niê Kdăm", "Trần Tú", ""])
profiles = st.builds(
    Profile,
    name=names,
    birth_year=st.one_of(st.none(), st.integers(1940, 2005)),
    phone=st.sampled_from(["", "0912345678", "0987654321"]),
    point=st.one_of(st.none(), st.tuples(st.floats(21, 21.01), st.floats(105, 105.01))),
)


@given(profiles, profiles)
def test_d2_score_is_symmetric(a, b):
    assert score(a, b).total == score(b, a).total


# -- order of arrival ------------------------------------------------------------------------

VARIANTS = ["Hoàng Văn Thủy", "Huynh Van Thuy", "Hoàng Thủy", "Hoàng Văn Thuỷ", "Lò Văn Minh"]
household = st.builds(
    Profile,
    name=st.sampled_from(VARIANTS),
    birth_year=st.sampled_from([None, 1975, 1976, 1990]),
    cccd=st.sampled_from(["", "011075012345", "011075012354", "011178054321"]),
    phone=st.sampled_from(["", "0912345678"]),
    village=st.sampled_from(["", "03325_01", "03325_02"]),
    point=st.sampled_from([None, (21.0301, 105.8401), (21.0303, 105.8399), (21.05, 105.9)]),
    members=st.sampled_from([(), (Member("Lò Thị Hoa", 1978, "011178054321"),)]),
)


def _pairs_found(profiles: list[Profile], order: list[int]) -> set[frozenset[int]]:
    """Register `profiles` in `order` against a key index: the candidate pairs opened."""
    index: dict[str, set[int]] = {}
    found = set()
    for i in order:
        profile = profiles[i]
        for j in set().union(*(index.get(k, set()) for k in keys.probe_keys(profile, "7"))):
            if score(profile, profiles[j]).is_candidate:
                found.add(frozenset((i, j)))
        for k in keys.index_keys(profile, "7"):
            index.setdefault(k, set()).add(i)
    return found


@given(st.lists(household, min_size=2, max_size=6), st.randoms(use_true_random=False))
def test_d2_candidate_pairs_do_not_depend_on_arrival_order(profiles, rnd):
    """Registrations arriving in any order open the same possible-duplicate pairs."""
    order = list(range(len(profiles)))
    shuffled = order[:]
    rnd.shuffle(shuffled)
    assert _pairs_found(profiles, order) == _pairs_found(profiles, shuffled)


# -- issue 17: household against household ---------------------------------------------------

FAMILY = Profile(
    name="Đặng Xuân Hương",
    birth_year=1985,
    sex="male",
    village="03325_01",
    members=(
        Member("Lò Thị Hoa", 1987, "", "female", "spouse"),
        Member("Đặng Văn Nam", 2008, "", "male", "child"),
        Member("Đặng Thị Mai", 2011, "", "female", "child"),
    ),
)


def test_issue17_a_registration_by_the_spouse_of_the_head_is_a_candidate():
    """The spouse answered the door: she is the head in the second registration, he a member."""
    by_spouse = Profile(
        name="Lo Thi Hoa",
        birth_year=1987,
        sex="female",
        village="03325_01",
        members=(
            Member("Dang Xuan Huong", 1985, "", "male", "spouse"),
            Member("Dang Van Nam", 2008, "", "male", "child"),
        ),
    )
    result = score(by_spouse, FAMILY)
    assert result.is_candidate, result
    assert "head_is_member" in result.breakdown
    assert keys.probe_keys(by_spouse, "7") and set(keys.probe_keys(by_spouse, "7")) & set(
        keys.index_keys(FAMILY, "7")
    )


def test_issue17_one_typo_and_another_variation_is_a_candidate_when_the_family_agrees():
    """`Đặng Xuân Hương 1985` / `Dang Hyong 1984`: the head alone scores under the threshold,
    the spouse and children say it is one household (the house is where it was)."""
    here = dataclasses.replace(FAMILY, point=(21.0301, 105.8401))
    retyped = Profile(
        name="Dang Hyong",
        birth_year=1984,
        sex="male",
        village="03325_01",
        point=(21.0302, 105.8402),
        members=(
            Member("Lo Thi Hoa", 1987, "", "female", "spouse"),
            Member("Dang Van Nam", 2008, "", "male", "child"),
            Member("Đặng Thị Mai", 2011, "", "female", "child"),
        ),
    )
    assert score(retyped, here).is_candidate


def test_issue17_namesake_with_another_family_is_not_a_candidate():
    """Same head's name and birth year, another spouse and children: two households."""
    namesake = Profile(
        name="Đặng Xuân Hương",
        birth_year=1985,
        sex="male",
        village="03325_01",
        members=(
            Member("Nguyễn Thị Lan", 1986, "", "female", "spouse"),
            Member("Đặng Văn Tú", 2010, "", "male", "child"),
        ),
    )
    assert not score(namesake, FAMILY).is_candidate


def test_issue17_a_member_of_the_other_sex_or_age_is_not_the_same_person():
    other = Profile(name="Lò Thị Hoa", birth_year=1960, sex="female", village="03325_01")
    assert "head_is_member" not in score(other, FAMILY).breakdown


# -- the cheap first look of `candidate` -----------------------------------------------------

person = st.builds(
    Member,
    name=st.sampled_from([*VARIANTS, "Lò Thị Hoa", "Lo Thi Hoa", "Đặng Văn Nam", ""]),
    birth_year=st.sampled_from([None, 1975, 1976, 1978, 2008]),
    cccd=st.sampled_from(["", "011075012345", "011178054321", "011178054312"]),
    sex=st.sampled_from(["", "male", "female"]),
)
whole_household = st.builds(
    Profile,
    name=st.sampled_from([*VARIANTS, "Lò Thị Hoa", ""]),
    birth_year=st.sampled_from([None, 1975, 1976, 1978, 1990]),
    cccd=st.sampled_from(["", "011075012345", "011075012354", "011178054321"]),
    phone=st.sampled_from(["", "0912345678", "0987654321"]),
    household_code=st.sampled_from(["", "HK001", "HK002"]),
    village=st.sampled_from(["", "03325_01", "03325_02"]),
    point=st.sampled_from([None, (21.0301, 105.8401), (21.0303, 105.8399), (21.05, 105.9)]),
    members=st.lists(person, max_size=3).map(tuple),
    sex=st.sampled_from(["", "male", "female"]),
)


@settings(max_examples=400)
@given(whole_household, whole_household)
def test_d2_candidate_answers_as_the_full_score(a, b):
    """The recheck and registration keep a pair exactly when the full score would."""
    full = score(a, b)
    assert candidate(a, b) == (full if full.is_candidate else None)


def test_d2_candidate_leaves_out_a_pair_whose_identifiers_disagree():
    namesake = dataclasses.replace(HEAD, cccd="001090067890", phone="0987654321",
                                   village="03325_04", point=(21.0450, 105.8600))  # fmt: skip
    assert not score(HEAD, namesake).is_candidate and candidate(HEAD, namesake) is None
    assert candidate(HEAD, HEAD) == score(HEAD, HEAD)


def test_d2_candidate_keeps_a_pair_the_people_lift_to_the_threshold():
    """At the edge: the people give all they can, the rest takes it back to exactly 5."""
    alone = Profile("Lò Văn Minh", 1975, village="03325_01")
    moved = dataclasses.replace(alone, village="03325_02")  # -1: 6 - 1 = 5
    assert score(alone, moved).total == THRESHOLD and candidate(alone, moved) is not None
    family = dataclasses.replace(
        alone,
        village="",
        cccd="011075012345",
        members=(Member("Lò Thị Hoa", 1978), Member("Lò Văn Nam", 2001)),
    )
    retyped = dataclasses.replace(family, cccd="011178054321")  # -5: 10 - 5 = 5
    assert score(family, retyped).total == THRESHOLD and candidate(family, retyped) is not None


def test_d2_candidate_keeps_a_head_found_among_the_other_members_at_the_edge():
    """The spouse registered the household: 5.5 for her found among his members, the phone
    and village (-1, +0.5) take it to exactly 5; no head-to-head comparison could."""
    his = Profile("Đặng Xuân Hương", 1985, phone="0912000111", village="03325_01", sex="male",
                  members=(Member("Lò Thị Hoa", 1987, "", "female", "spouse"),))  # fmt: skip
    hers = Profile("Lò Thị Hoa", 1987, phone="0912000222", village="03325_01", sex="female")
    assert score(hers, his).total == THRESHOLD and candidate(hers, his) == score(hers, his)
    assert candidate(his, hers) == score(his, hers)
