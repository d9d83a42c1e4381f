"""Loading courses/skills.yml (the skill taxonomy) and courses/roles.yml (roles, hiring plan)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from lms.content.fields import SKILL_ID, Reporter
from lms.content.model import TRACKS, HiringTarget, Role, RoleSkill, Skill
from lms.content.yaml_lines import LineDict


class TaxonomyLoader(Reporter):
    """Skills and roles, checked against each other."""

    def load_skills(self, path: Path) -> list[Skill]:
        """courses/skills.yml: the skill taxonomy."""
        file = self.rel(path)
        data = self.read_yaml(path, "the skill taxonomy (skills.yml)")
        if data is None:
            return []
        self.check_keys(data, file, "skills.yml", {"skills"}, set())
        skills: list[Skill] = []
        seen: dict[str, int] = {}
        if "skills" not in data:
            return skills
        for item in self.mapping_items(data["skills"], file, data.key_lines["skills"], "skills"):
            what = f"skill {item.get('id', '?')!r}"
            self.check_keys(item, file, what, {"id", "name", "track"}, {"name_fr"})
            skill_id = self.slug(item, "id", file, what, pattern=SKILL_ID)
            name = self.text(item, "name", file, what)
            name_fr = self.text(item, "name_fr", file, what)
            track = self.choice(item, "track", TRACKS, file, what)
            if skill_id is not None and skill_id in seen:
                self.report(
                    file,
                    item.key_lines["id"],
                    f"skill id {skill_id!r} is already defined at line {seen[skill_id]}",
                )
                continue
            if skill_id is None or name is None or track is None:
                continue
            seen[skill_id] = item.key_lines["id"]
            skills.append(Skill(id=skill_id, name=name, name_fr=name_fr, track=track))
        return skills

    def load_roles(self, path: Path, skill_ids: set[str]) -> tuple[list[Role], list[HiringTarget]]:
        """courses/roles.yml: target roles and the hiring plan."""
        file = self.rel(path)
        data = self.read_yaml(path, "the target roles (roles.yml)")
        if data is None:
            return [], []
        self.check_keys(data, file, "roles.yml", {"roles"}, {"hiring_plan"})
        roles: list[Role] = []
        seen: dict[str, int] = {}
        if "roles" in data:
            for item in self.mapping_items(data["roles"], file, data.key_lines["roles"], "roles"):
                role = self.load_role(item, file, skill_ids)
                if role is None:
                    continue
                if role.id in seen:
                    self.report(
                        file,
                        item.key_lines["id"],
                        f"role id {role.id!r} is already defined at line {seen[role.id]}",
                    )
                    continue
                seen[role.id] = item.key_lines["id"]
                roles.append(role)
        plan: list[HiringTarget] = []
        if "hiring_plan" in data:
            entries = self.mapping_items(
                data["hiring_plan"], file, data.key_lines["hiring_plan"], "hiring_plan"
            )
            targets: dict[tuple[str, dt.date], int] = {}
            for item in entries:
                target = self.load_hiring_target(item, file, set(seen))
                if target is None:
                    continue
                key = (target.role, target.by)
                if key in targets:
                    self.report(
                        file,
                        item.line,
                        f"hiring_plan already has a target for {target.role!r} by "
                        f"{target.by.isoformat()} (line {targets[key]}); merge the two counts",
                    )
                    continue
                targets[key] = item.line
                plan.append(target)
        return roles, plan

    def load_role(self, item: LineDict, file: str, skill_ids: set[str]) -> Role | None:
        """One role of roles.yml."""
        what = f"role {item.get('id', '?')!r}"
        self.check_keys(item, file, what, {"id", "name", "track", "skills"}, {"name_fr"})
        role_id = self.slug(item, "id", file, what)
        name = self.text(item, "name", file, what)
        name_fr = self.text(item, "name_fr", file, what)
        track = self.choice(item, "track", TRACKS, file, what)
        required: list[RoleSkill] = []
        seen: set[str] = set()
        if "skills" in item:
            entries = self.mapping_items(item["skills"], file, item.key_lines["skills"], what)
            if not entries:
                self.report(
                    file, item.key_lines["skills"], f"{what} must require at least one skill"
                )
            for entry in entries:
                where = f"{what}, skill {entry.get('skill', '?')!r}"
                self.check_keys(entry, file, where, {"skill", "level", "weight"}, {"critical"})
                skill = self.slug(entry, "skill", file, where, pattern=SKILL_ID)
                level = self.number(entry, "level", file, where, low=0.0, high=1.0)
                weight = self.number(entry, "weight", file, where, low=0.0, low_inclusive=False)
                critical = entry.get("critical", False)
                if not isinstance(critical, bool):
                    self.report(
                        file,
                        entry.key_lines["critical"],
                        f"{where}: 'critical' must be true or false, got {critical!r}",
                    )
                    continue
                if skill is not None and skill not in skill_ids:
                    self.report(
                        file,
                        entry.key_lines["skill"],
                        f"{where}: unknown skill {skill!r}; define it in courses/skills.yml",
                    )
                    continue
                if skill in seen:
                    self.report(
                        file, entry.key_lines["skill"], f"{where}: skill listed twice in the role"
                    )
                    continue
                if skill is None or level is None or weight is None:
                    continue
                seen.add(skill)
                required.append(RoleSkill(skill, level, weight, critical))
        if role_id is None or name is None or track is None:
            return None
        return Role(id=role_id, name=name, name_fr=name_fr, track=track, skills=required)

    def load_hiring_target(
        self, item: LineDict, file: str, role_ids: set[str]
    ) -> HiringTarget | None:
        """One entry of the hiring plan."""
        what = f"hiring_plan entry for {item.get('role', '?')!r}"
        self.check_keys(item, file, what, {"role", "count", "by"}, set())
        role = self.slug(item, "role", file, what)
        if role is not None and role not in role_ids:
            self.report(
                file, item.key_lines["role"], f"{what}: unknown role {role!r}; define it in roles:"
            )
            role = None
        count = item.get("count")
        if "count" in item and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
            self.report(
                file,
                item.key_lines["count"],
                f"{what}: 'count' must be a whole number >= 1, got {count!r}",
            )
            count = None
        by = item.get("by")
        if "by" in item and (not isinstance(by, dt.date) or isinstance(by, dt.datetime)):
            self.report(
                file,
                item.key_lines["by"],
                f"{what}: 'by' must be a date like 2027-06-30, got {by!r}",
            )
            by = None
        if role is None or count is None or by is None:
            return None
        return HiringTarget(role=role, count=count, by=by)
